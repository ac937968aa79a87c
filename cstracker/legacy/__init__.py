"""Bulk import of old spreadsheets: reading sources, mapping columns, deciding rows, rejects. Imports the tracker and below; never forms or report."""
