"""`python -u -m fighter_project.data_svc.main <config.yml>`: the data service (metis-deploy STAND-IN)."""

import sys

from fighter_project.service import main

if __name__ == "__main__":
    sys.exit(main("data", sys.argv[1:]))
