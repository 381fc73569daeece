"""The pilot's indicators: which are shown (`catalogue`), over which cases (`period`), computed
by SQL aggregates (`queries_*`, run together by `compute`), and exported as CSV (`csv_export`)."""
