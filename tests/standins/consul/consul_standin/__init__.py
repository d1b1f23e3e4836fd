"""STAND-IN for HashiCorp Consul, made by metis-deploy for its tests and lab. Not Consul."""
