"""Sphinx configuration of the device's technical file (the device and its records: qms.yaml).

``qms build`` (or ``sphinx-build -b html . _build/html``) renders it; the qms extension loads
qms.yaml and the records beside this file and does the rest. Pages of your own (``*.rst`` here
or in a subfolder) are added to the site and can use the qms directives and the :item: role.
"""

extensions = ["qms.sphinx"]
