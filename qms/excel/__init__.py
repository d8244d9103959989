"""The Excel round trip: ``qms export xlsx`` writes a workbook, ``qms import xlsx`` takes its edits back.

- :mod:`qms.excel.layout`: the sheets and columns (derived from the schema) and the text of a cell;
- :mod:`qms.excel.export`: the reproducible workbook;
- :mod:`qms.excel.reading`: any workbook (ours, or re-saved by another tool) to rows of cell text;
- :mod:`qms.excel.import_`: rows to field changes, refused cells, and the YAML edits, in the modules
  ``cells``, ``plan``, ``changes``, ``targets``, ``writer`` and ``journal`` (all or nothing);
- :mod:`qms.excel.yamledit`: round-trip editing of item files that keeps their layout.
"""
