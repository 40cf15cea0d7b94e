"""Rendering: view models -> files (the statistics workbook; later CAPA forms and surveys)."""
