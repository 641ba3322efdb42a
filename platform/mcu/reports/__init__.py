"""Reports the districts' decrees require: built from the analytics figures on schedule (by the
worker) and on demand, stored as documents, exported as XLSX, CSV, PDF and JSON."""
