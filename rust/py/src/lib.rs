//! Python bindings of metis-core (pyo3). Filled in by the Python package work.
