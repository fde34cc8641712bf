"""Goals: tenants, CRM ingest, the system of record of activities, live KPI totals."""
