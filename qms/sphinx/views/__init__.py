"""What each page element shows, as typed values computed from the loaded project (no Sphinx here).

``build`` holds the project as a build sees it; ``cells`` the typed table cells both writers
render; ``items``, ``tables``, ``risk`` and ``summaries`` the answers to the queries listed in
:mod:`qms.sphinx.queries`.
"""
