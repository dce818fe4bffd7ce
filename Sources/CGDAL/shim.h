// GDAL's C API (gdal.h, OGR spatial references, warper). GDAL's C API needs no macro shims
// for what rstrain uses; the header only gathers the includes in one module.
#ifndef RSTRAIN_CGDAL_SHIM_H
#define RSTRAIN_CGDAL_SHIM_H
#include <gdal.h>
#include <gdalwarper.h>
#include <gdal_alg.h>
#include <ogr_srs_api.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#endif
