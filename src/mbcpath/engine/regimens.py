"""Regimens as the engine handles them: components, their drugs and classes."""

from __future__ import annotations

from dataclasses import dataclass, field

from mbcpath.domain.drugs import CHEMOTHERAPY_CLASSES, DRUG_CLASSES, ENDOCRINE_CLASSES, DrugClass
from mbcpath.domain.recommendation import Component, component_label
from mbcpath.kb.models import ComponentSpec, Regimen

_COMPONENTS: dict[tuple[object, ...], Component] = {}


@dataclass
class WorkingComponent:
    """A mutable component while gates filter choices or add components."""

    drug: str | None
    drug_class: DrugClass
    name: str | None = None
    choices: list[str] | None = None

    @classmethod
    def from_spec(cls, spec: ComponentSpec) -> WorkingComponent:
        return cls(spec.drug, spec.drug_class, spec.name, list(spec.choices) if spec.choices else None)

    def drugs(self) -> list[str]:
        if self.drug:
            return [self.drug]
        return list(self.choices or [])

    def to_component(self) -> Component:
        """The output component (shared, read-only instances: one per distinct component)."""
        key = (self.drug, self.drug_class, self.name, tuple(self.choices) if self.choices else None)
        hit = _COMPONENTS.get(key)
        if hit is None:
            hit = _COMPONENTS[key] = Component.model_construct(
                drug=self.drug, drug_class=self.drug_class, name=self.name,
                choices=list(self.choices) if self.choices else None)
        return hit

    def label(self) -> str:
        return component_label(self.drug, self.drug_class, self.name, self.choices)


@dataclass
class WorkingRegimen:
    """A regimen being checked for one patient."""

    id: str
    name: str
    components: list[WorkingComponent]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, regimen: Regimen, current_drugs: tuple[str, ...] = ()) -> WorkingRegimen:
        comps = [WorkingComponent.from_spec(c) for c in regimen.components]
        name = regimen.name
        if regimen.dynamic:
            for d in current_drugs:
                comps.append(WorkingComponent(d, DRUG_CLASSES[d]))
            if current_drugs:
                name = f"{regimen.name}: {' + '.join(current_drugs)}"
        return cls(regimen.id, name, comps)

    def drugs(self) -> set[str]:
        return {d for c in self.components for d in c.drugs()}

    def classes(self) -> set[DrugClass]:
        return {c.drug_class for c in self.components}

    def has_chemotherapy(self) -> bool:
        return bool(self.classes() & CHEMOTHERAPY_CLASSES)

    def is_chemo_free(self) -> bool:
        classes = self.classes()
        return not (classes & CHEMOTHERAPY_CLASSES) and classes != {DrugClass.LOCAL_THERAPY}

    def has_endocrine(self) -> bool:
        return bool(self.classes() & ENDOCRINE_CLASSES)

    def labels(self) -> list[str]:
        return [c.label() for c in self.components]
