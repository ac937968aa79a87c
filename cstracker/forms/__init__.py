"""The consultation form workbook, the framework sheet, and ingest. Imports the tracker and below; never legacy or report."""
