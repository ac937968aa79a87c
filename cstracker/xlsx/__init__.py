"""The workbook-file layer: safe reading of untrusted .xlsx, OOXML parts, the streaming patch writer, the one atomic write, encryption, outputs. Imports only the core."""
