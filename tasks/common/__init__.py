"""What several benchmark families share, written once: strict annotation reading and the load
report (``loading``), parquet sources local or on the Hub (``parquet``), the mask binarisation
rules (``masks``) and the file writers of the miniature-release builders (``miniature``)."""
