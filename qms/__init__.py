"""qms: docs-as-code for medical device software.

Design inputs, hazards, architecture, SOUP and tests live as YAML in git; qms links them into a
traceability graph, gates CI on gaps (``qms check``) and renders the technical documentation
IEC 62304, ISO 14971 and ISO 13485 ask for (``qms build``).
"""

__version__ = "0.1.0"
