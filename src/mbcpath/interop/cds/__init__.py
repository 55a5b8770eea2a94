"""CDS Hooks 2.0.1 service: discovery, patient-view, order-select, order-sign, feedback, JWT security.

The web adapter is :mod:`mbcpath.web.routers.cds_hooks`; this package holds the logic (no FastAPI here
except in the router). See docs/interop.md for the configuration (``MBCPATH_CDS_*``).
"""
