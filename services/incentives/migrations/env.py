from incentives.models import SCHEMA, Base
from shared.db.migrations import run_env

run_env(Base.metadata, SCHEMA)
