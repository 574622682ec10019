"""One engine for counterpart records: fixed-width and CSV layouts declared as data.

Every adapter declares its file layouts against this package (a layout is a tuple of
:class:`~adapters.records.fields.Field`); none keeps an engine of its own. The modules:

* :mod:`adapters.records.fields`: the field kinds, the field declaration, problems and the Markdown table;
* :mod:`adapters.records.fixed`: fixed-width records (byte offsets; UTF-8, or JIS8 with shift sequences);
* :mod:`adapters.records.csv`: CSV rows (CP932 without quoting, or UTF-8 with RFC 4180 quoting);
* :mod:`adapters.records.text`: character sets and width rules (CP932, JIS X 0201/0208, 全角/半角);
* :mod:`adapters.records.era`: Japanese era dates (元号).

It imports only the standard library and :mod:`contracts` (import-linter keeps it so), and raises the
adapter's own errors through the factories the adapter passes to a codec, so that every adapter may use it
while the adapters stay independent of each other and of the hub.
"""
