"""The Referral Tracker workbook: its layout, reading, writing, index, validation, fixes, audit, retention, export. Imports the core and the file layer."""
