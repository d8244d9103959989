"""Sphinx configuration of the bundled example: the technical file of the Example AID Controller.

``qms build`` (or ``sphinx-build -b html . _build/html``) renders it; the qms extension loads
qms.yaml and the records beside this file and does the rest. Options: see the README.
"""

extensions = ["qms.sphinx"]
qms_document_id_prefix = "AID"
