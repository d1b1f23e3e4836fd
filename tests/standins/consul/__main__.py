# consul: metis-deploy STAND-IN for HashiCorp Consul (tests and lab only; not Consul itself).
import sys

from consul_standin.cli import main

sys.exit(main(sys.argv[1:]))
