"""The data service of the fighter STAND-IN (metis-deploy)."""
