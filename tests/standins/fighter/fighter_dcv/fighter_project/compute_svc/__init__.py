"""The compute service of the fighter STAND-IN (metis-deploy)."""
