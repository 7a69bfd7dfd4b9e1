"""Analysis report rendering (charts with matplotlib, DOCX, printable HTML) and the report jobs."""
