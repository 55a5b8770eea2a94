"""Reports of a recommendation: the tumour-board view, its HTML, the PDF and server-side SVG charts.

The report layer is an adapter, like ``web`` and ``cli``: it reads a
:class:`~mbcpath.domain.recommendation.Recommendation` (and, where given, the
patient, the knowledge base and the projections) and renders them; it never
decides anything clinical. ``jinja2`` and ``playwright`` are imported inside the
functions that need them.

- :func:`build_board` (``report.board``): the board table model (patient strip, safety stops,
  one row per option, conflicts, trial matches).
- :mod:`mbcpath.report.svg`: survival curves with bands and solid/dashed segments, forest plots.
- :func:`render_report_html` / :func:`write_pdf` (``report.document``, ``report.pdf``): the 1-2 page
  A4 report for the tumour-board minutes, with an optional plain-language patient summary page.
"""

from mbcpath.report.board import Board, BoardRow, build_board

__all__ = ["Board", "BoardRow", "build_board"]
