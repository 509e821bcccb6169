"""Names users see in the UI and type on the command line: asset groups and jobs."""

# The group of every per-batch asset; also the name of its partitions definition.
IMPORT_GROUP = "import_batch"
# The group of the catalog-wide assets.
CATALOG_GROUP = "catalog"
# The job that runs one import batch through every stage.
IMPORT_JOB = "import_batch_job"
