"""`python -u -m fighter_project.compute_svc.main <config.yml>`: the compute service (metis-deploy STAND-IN)."""

import sys

from fighter_project.service import main

if __name__ == "__main__":
    sys.exit(main("compute", sys.argv[1:]))
