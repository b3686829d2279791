// libzstd with its advanced (stable since 1.4) parameter API. Imported only by the Zstd module.
#include <zstd.h>
#include <zstd_errors.h>
