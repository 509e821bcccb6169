"""structr_pipeline: product catalogs in, clean, validated, publishable product data out."""
