"""The monthly report: tables, suppression, the published figures and their disclosure audit, the workbook. Imports the tracker and below; never forms or legacy."""
