/* SPDX-License-Identifier: MIT */
/*
 * synth_pipeline.c: writes pipeline.ini, pipeline-daycent.ini and
 * pipeline-tables.ini for a synth tree (synth_pipeline.h). Paths are relative
 * to the tree; calendar noleap over whole years.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "synth_io.h"
#include "synth_mgmt.h"
#include "synth_pipeline.h"

static const char *const table_features =
    "[input.TMAX_AIR]\nsource = table\npath = {root}/tables/weather_{year}.csv\ncolumn = tmax\nsource_units = K\n"
    "units = degC\nmatch = county\nlong_name = daily maximum air temperature\n\n"
    "[input.TMIN_AIR]\nsource = table\npath = {root}/tables/weather_{year}.csv\ncolumn = tmin\nsource_units = K\n"
    "units = degC\nmatch = county\nlong_name = daily minimum air temperature\n\n"
    "[input.PRECN]\nsource = table\npath = {root}/tables/weather_{year}.csv\ncolumn = prcp\nsource_units = kg m-2\n"
    "units = mm d-1\nmatch = county\nlong_name = daily precipitation\n\n"
    "[target.GPP]\nsource = table\npath = {root}/tables/targets.csv\ncolumn = gpp\nsource_units = g C m-2 d-1\n"
    "units = g C m-2 d-1\nmissing =\nlong_name = gross primary production\nsign = positive = uptake by the ecosystem\n\n"
    "[target.NEE]\nsource = table\npath = {root}/tables/targets.csv\ncolumn = nee\nqc_column = nee_qc\n"
    "source_units = g C m-2 d-1\nunits = g C m-2 d-1\nmissing =\nlong_name = net ecosystem exchange\n"
    "sign = negative = uptake by the ecosystem\n\n"
    "[target.N2O_FLUX]\nsource = table\npath = {root}/tables/targets.csv\ncolumn = n2o\nsource_units = g N ha-1 d-1\n"
    "units = g N m-2 d-1\nmissing =\nlong_name = soil N2O flux\nsign = positive = emission to the atmosphere\n";

/* Weather of the AgroFlux order from gridMET (format = gridmet) or Daymet. */
static void weather_inputs(FILE *fp, int daymet)
{
    static const char *const name[] = { "TMAX_AIR", "TMIN_AIR", "PRECN" };
    static const char *const lname[] = { "daily maximum air temperature", "daily minimum air temperature",
                                         "daily precipitation" };
    static const char *const gm_file[] = { "tmmx", "tmmn", "pr" }, *const gm_var[] = { "air_temperature",
        "air_temperature", "precipitation_amount" }, *const gm_units[] = { "K", "K", "mm" };
    static const char *const dm_var[] = { "tmax", "tmin", "prcp" }, *const dm_units[] = { "degC", "degC", "mm/day" };
    static const char *const units[] = { "degC", "degC", "mm d-1" };
    for (int i = 0; i < 3; i++) {
        if (daymet)
            fprintf(fp, "[input.%s]\nsource = gridded\nformat = daymet\npath = {root}/daymet/daymet_v4_daily_na_%s_{year}.nc\n"
                        "variable = %s\n", name[i], dm_var[i], dm_var[i]);
        else
            fprintf(fp, "[input.%s]\nsource = gridded\npath = {root}/gridmet/%s_{year}.nc\nvariable = %s\n", name[i],
                    gm_file[i], gm_var[i]);
        fprintf(fp, "source_units = %s\nunits = %s\nlong_name = %s\n\n", daymet ? dm_units[i] : gm_units[i], units[i],
                lname[i]);
    }
}

/* FERTZR_N, PDOY, PLANTT from the management files, for counties ([scenario.*] rates at planting) and sites.
 * PLANTT is the 0/1 corn indicator: AgroFlux's X_scaler row (mean 0.564, std 0.496 = sqrt(p (1 - p)))
 * is that of a binary feature, not of the CDL code 1/5. */
static const char *const mgmt_inputs =
    "[input.FERTZR_N]\nsource = management\nvariable = fertilizer_n\npath = {root}/mgmt/planting_{year}.csv\n"
    "events = {root}/mgmt/fertilizer_sites.csv\nunits = g N m-2\nlong_name = fertilizer N applied on the day\n\n"
    "[input.PDOY]\nsource = management\nvariable = planting_flag\npath = {root}/mgmt/planting_{year}.csv\nunits = flag\n"
    "long_name = 1 on the planting day, else 0\n\n"
    "[input.PLANTT]\nsource = management\nvariable = corn_flag\npath = {root}/mgmt/planting_{year}.csv\nunits = flag\n"
    "long_name = crop type of the year: 1 = corn, 0 = soybean (AgroFlux's binary PLANTT)\n\n";

static void soil_inputs(FILE *fp)
{
    static const struct { const char *name, *file, *src, *units, *lname; } s[] = {
        { "TBKDS", "bd", "g cm-3", "Mg m-3", "bulk density, 0-30 cm" },
        { "TCSAND", "sand", "%", "g kg-1", "sand, 0-30 cm" },
        { "TCSILT", "silt", "%", "g kg-1", "silt, 0-30 cm" },
        { "TPH", "ph", "pH", "pH", "soil pH, 0-30 cm" },
        { "TCEC", "cec", "cmol kg-1", "cmol kg-1", "cation exchange capacity, 0-30 cm" },
        { "TSOC", "soc", "g kg-1", "g kg-1", "soil organic carbon, 0-30 cm" },
    };
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        fprintf(fp, "[input.%s]\nsource = soil\npath = {root}/soil/%s_{layer}.tif\nlayers = 0-5,5-15,15-30\ndepth = 0-30\n"
                    "source_units = %s\nunits = %s\nlong_name = %s\n\n", s[i].name, s[i].file, s[i].src, s[i].units,
                s[i].lname);
}

static const char *const radn_gridmet =
    "[input.RADN]\nsource = gridded\npath = {root}/gridmet/srad_{year}.nc\nvariable = surface_downwelling_shortwave_flux_in_air\n"
    "source_units = W m-2\nunits = MJ m-2 d-1\nlong_name = daily shortwave radiation (extra)\n\n";
static const char *const radn_daymet =
    "[input.RADN]\nsource = gridded\nformat = daymet\npath = {root}/daymet/daymet_v4_daily_na_srad_{year}.nc\nvariable = srad\n"
    "multiply_path = {root}/daymet/daymet_v4_daily_na_dayl_{year}.nc\nmultiply_variable = dayl\n"
    "source_units = J m-2 d-1\nunits = MJ m-2 d-1\nlong_name = daily shortwave radiation, Daymet srad x dayl (extra)\n\n";

/* Ecosys targets, module order Carbon, Thermal, Water, Nitrogen (pipelines/examples/ecosys-agroflux.ini). */
static const struct eco_t { const char *name, *grp, *var, *extra; } eco_targets[] = {
    { "Reco", "dc", "|ECO_RA| + ECO_RH", "cumulative = yes\nunits = g C m-2 d-1\nlong_name = ecosystem respiration\nsign = positive = to the atmosphere\n" },
    { "GPP", "dc", "ECO_GPP", "cumulative = yes\nunits = g C m-2 d-1\nlong_name = gross primary production\nsign = positive = uptake by the ecosystem\n" },
    { "CO2_FLUX", "dc", NULL, "cumulative = yes\nsign_flip = yes\nunits = g C m-2 d-1\nlong_name = net ecosystem CO2 exchange\nsign = positive = to the atmosphere\n" },
    { "Yield", "dc", "ECO_HVST_C", "cumulative = no\nannual = last\nunits = g C m-2\nlong_name = harvested carbon of the year (annual, on every day)\n" },
    { "Delta_SOC", "dc", "SOC_1 + SOC_3 + SOC_5", "cumulative = no\nannual = delta\nunits = g C m-2\nlong_name = change of soil organic carbon over the year (annual, on every day)\nsign = positive = the soil gains carbon\n" },
    { "TMAX_SOIL_1", "dh", NULL, "cumulative = no\nunits = degC\nlong_name = daily maximum soil temperature, layer 1\n" },
    { "TMIN_SOIL_1", "dh", NULL, "cumulative = no\nunits = degC\nlong_name = daily minimum soil temperature, layer 1\n" },
    { "TMAX_SOIL_3", "dh", NULL, "cumulative = no\nunits = degC\nlong_name = daily maximum soil temperature, layer 3\n" },
    { "TMIN_SOIL_3", "dh", NULL, "cumulative = no\nunits = degC\nlong_name = daily minimum soil temperature, layer 3\n" },
    { "TMAX_SOIL_5", "dh", NULL, "cumulative = no\nunits = degC\nlong_name = daily maximum soil temperature, layer 5\n" },
    { "TMIN_SOIL_5", "dh", NULL, "cumulative = no\nunits = degC\nlong_name = daily minimum soil temperature, layer 5\n" },
    { "WTR_1", "dw", NULL, "cumulative = no\nunits = m3 m-3\nlong_name = volumetric soil water, layer 1\n" },
    { "WTR_3", "dw", NULL, "cumulative = no\nunits = m3 m-3\nlong_name = volumetric soil water, layer 3\n" },
    { "WTR_5", "dw", NULL, "cumulative = no\nunits = m3 m-3\nlong_name = volumetric soil water, layer 5\n" },
    { "ET", "dw", NULL, "cumulative = yes\nunits = mm d-1\nlong_name = evapotranspiration\nsign = positive = to the atmosphere\n" },
    { "N2O_FLUX", "dn", NULL, "cumulative = yes\nsign_flip = yes\nunits = g N m-2 d-1\nlong_name = soil N2O flux\nsign = positive = emission to the atmosphere\n" },
    { "NH4_1", "dn", NULL, "cumulative = no\nsource_units = g N m-2\nunits = g N m-2\nlong_name = soil NH4, layer 1\n" },
    { "NO3_1", "dn", NULL, "cumulative = no\nsource_units = g N m-2\nunits = g N m-2\nlong_name = soil NO3, layer 1\n" },
    { "NO3_3", "dn", NULL, "cumulative = no\nsource_units = g N m-2\nunits = g N m-2\nlong_name = soil NO3, layer 3\n" },
    { "NO3_5", "dn", NULL, "cumulative = no\nsource_units = g N m-2\nunits = g N m-2\nlong_name = soil NO3, layer 5\n" },
};

/* Targets the sites also observe (towers, chambers): one variable, an @counties and an @sites half. */
static int shared_with_sites(const char *name)
{
    return !strcmp(name, "Reco") || !strcmp(name, "GPP") || !strcmp(name, "N2O_FLUX");
}

static void ecosys_targets(FILE *fp)
{
    for (size_t i = 0; i < sizeof eco_targets / sizeof eco_targets[0]; i++) {
        const struct eco_t *t = &eco_targets[i];
        if (shared_with_sites(t->name))
            fprintf(fp, "[target.%s@counties]\nsource = ecosys\npath = {root}/ecosys/{fips}/{scenario}/01010{year}%s\n",
                    t->name, t->grp);
        else
            fprintf(fp, "[target.%s]\nsource = ecosys\npath = {root}/ecosys/{fips}/{scenario}/01010{year}%s\napplies_to = counties\n",
                    t->name, t->grp);
        if (t->var) fprintf(fp, "variable = %s\n", t->var);
        fprintf(fp, "%s\n", t->extra);
    }
}

/* Site targets: FLUXNET FULLSET DD GPP / NEE / Reco and the chambers' N2O, in the target convention.
 * GPP, Reco and N2O_FLUX are the @sites halves of the Ecosys targets of the same name (one variable);
 * NEE is the sites' own (it compares with CO2_FLUX). */
static void site_targets(FILE *fp, const af_synth_region *r)
{
    static const char *const dd = "source = tower\nformat = fullset\npath = {root}/fluxnet/FLX_{site}_FLUXNET2015_FULLSET_DD_*.csv\n"
                                  "source_units = g C m-2 d-1\nunits = g C m-2 d-1\n";
    fprintf(fp, "[target.GPP@sites]\n%scolumn = GPP_NT_VUT_REF\nlong_name = tower gross primary production "
                "(FULLSET, nighttime partitioning)\nsign = positive = uptake by the ecosystem\n\n", dd);
    fprintf(fp, "[target.NEE]\n%sapplies_to = sites\ncolumn = NEE_VUT_REF\nqc_column = NEE_VUT_REF_QC\nqc_threshold = 0.5\n"
                "long_name = tower net ecosystem exchange (compares with CO2_FLUX)\nsign = positive = to the atmosphere\n\n", dd);
    fprintf(fp, "[target.Reco@sites]\n%scolumn = RECO_NT_VUT_REF\nlong_name = tower ecosystem respiration "
                "(FULLSET, nighttime partitioning)\nsign = positive = to the atmosphere\n\n", dd);
    fprintf(fp, "[target.N2O_FLUX@sites]\nsource = chamber\npath = {root}/chambers/chambers.csv\n"
                "source_units = nmol m-2 s-1\nunits = g N m-2 d-1\n");
    int even = 0;
    for (int j = 1; j < r->nsites; j += 2) {
        fprintf(fp, "%s%s:C%d", even ? ", " : "chamber_ids = ", r->site[j].id, j + 1);
        even = 1;
    }
    if (even) fputc('\n', fp);
    fprintf(fp, "long_name = chamber N2O flux\nsign = positive = emission to the atmosphere\n\n");
}

static const char *const daycent_targets =
    "[target.CO2_FLUX]\nsource = daycent\npath = {root}/daycent/{id}/dc_sip.csv\nvariable = NEP\nsign_flip = yes\n"
    "units = g C m-2 d-1\nlong_name = net ecosystem CO2 exchange (-NEP)\nsign = positive = to the atmosphere\n\n"
    "[target.Yield]\nsource = daycent\npath = {root}/daycent/{id}/harvest.csv\nvariable = cgrain\nannual = events\n"
    "units = g C m-2\nlong_name = grain carbon harvested in the year (annual, on every day)\n\n"
    "[target.ET]\nsource = daycent\npath = {root}/daycent/{id}/dc_sip.csv\nvariable = trandly + evapdly\nunits = mm d-1\n"
    "long_name = evapotranspiration\nsign = positive = to the atmosphere\n\n"
    "[target.TAVG_SOIL_2]\nsource = daycent\npath = {root}/daycent/{id}/soiltavg.out\nlayer = 2\nunits = degC\n"
    "long_name = daily mean soil temperature, layer 2\n\n"
    "[target.WTR_3]\nsource = daycent\npath = {root}/daycent/{id}/vswc.out\nlayer = 3\nunits = m3 m-3\n"
    "long_name = volumetric soil water, layer 3\n\n"
    "[target.N2O_FLUX]\nsource = daycent\npath = {root}/daycent/{id}/nflux.out\nvariable = nit_N2O-N + dnit_N2O-N\n"
    "units = g N m-2 d-1\nlong_name = soil N2O flux\nsign = positive = emission to the atmosphere\n\n"
    "[target.Rh]\nsource = daycent\npath = {root}/daycent/{id}/summary.out\nvariable = CO2resp\nunits = g C m-2 d-1\n"
    "long_name = heterotrophic respiration\nsign = positive = to the atmosphere\n\n"
    /* GPP and Reco: DayCent has no one file with both; psyn.out joined with dc_sip.csv (docs/pipelines.md) */
    "[target.GPP]\nsource = daycent\npath = {root}/daycent/{id}/psyn.out\njoin = {root}/daycent/{id}/dc_sip.csv\n"
    "variable = crpGrPsn\nunits = g C m-2 d-1\nlong_name = gross primary production (psyn.out crpGrPsn)\n"
    "sign = positive = uptake by the ecosystem\n\n"
    "[target.Reco]\nsource = daycent\npath = {root}/daycent/{id}/psyn.out\njoin = {root}/daycent/{id}/dc_sip.csv\n"
    "variable = crpGrPsn - NEP\nsource_units = g C m-2 d-1\nunits = g C m-2 d-1\n"
    "long_name = ecosystem respiration, gross photosynthesis minus NEP (= NPP - heterotrophic respiration)\n"
    "sign = positive = to the atmosphere\n";

static void head(FILE *fp, const af_synth_region *r, const char *name, const char *output, int scen_key)
{
    fprintf(fp, "; Written by `agroflux synth`: a synthetic region in real formats.\n"
                "; Values follow the documented functions in docs/formats.md (\"Synth values\").\n"
                "; Every raw-data path starts with {root} = data_root: move the data, change one line\n"
                "; (or run with --set pipeline.data_root=DIR).\n\n"
                "[pipeline]\nname = %s\ndata_root = .\nstart = %04d-01-01\nend = %04d-12-31\ncalendar = noleap\n"
                "output = %s\nshard_samples = 8\nblock_days = 200\n\n"
                "[counties]\nlayer = {root}/counties.geojson\nid_field = GEOID\nselect = {root}/site_lists/counties.csv\n",
            name, r->year0, r->year1, output);
    if (scen_key) {
        fprintf(fp, "scenarios = ");
        for (int k = 0; k < r->nscenarios; k++) fprintf(fp, "%s%s", k ? ", " : "", r->scenario[k].name);
        fputc('\n', fp);
    }
    fputc('\n', fp);
    if (r->nsites > 0) fprintf(fp, "[sites]\nlist = {root}/site_lists/sites.csv\n\n");
}

static void splits(FILE *fp, const af_synth_region *r)
{
    fprintf(fp, "[splits]\n");
    if (r->year1 - r->year0 >= 2)
        fprintf(fp, "temporal_train = %d-%d\ntemporal_val = %d\ntemporal_test = %d\n", r->year0, r->year1 - 2,
                r->year1 - 1, r->year1);
    if (r->ncounties >= 3) fprintf(fp, "spatial_folds = 3\n");
    fprintf(fp, "loso = auto\n\n");
}

/*
 * Copy the pipeline text to out, adding after every `KEY = {root}/REST` of a path key its URL
 * key `url` / `KEY_url = {data_url}/REST`, so that `agroflux fetch --set pipeline.data_url=URL`
 * fetches the tree from a server that serves its root. The tower glob names the one file synth
 * writes per site (synth_obs.c).
 */
static void emit_with_urls(FILE *out, const char *text, const af_synth_region *r)
{
    static const char *const keys[] = { "path", "multiply_path", "cropland_weights", "events", "join", "soils",
                                        "class_table", "layer", "select", "list", NULL };
    char dd[64];
    snprintf(dd, sizeof dd, "FULLSET_DD_%d-%d_1-4.csv", r->year0, r->year1);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p + 1) : strlen(p);
        fwrite(p, 1, len, out);
        for (int k = 0; keys[k]; k++) {
            size_t kl = strlen(keys[k]);
            if (strncmp(p, keys[k], kl) || strncmp(p + kl, " = {root}/", 10)) continue;
            const char *rest = p + kl + 10;
            size_t rl = (size_t)((nl ? nl : p + len) - rest);
            const char *star = memchr(rest, '*', rl);
            const char *glob = "FULLSET_DD_*.csv";
            if (!strcmp(keys[k], "path")) fputs("url", out);
            else fprintf(out, "%s_url", keys[k]);
            if (star && star - rest >= 11 && !strncmp(star - 11, glob, strlen(glob)))
                fprintf(out, " = {data_url}/%.*s%s\n", (int)(star - 11 - rest), rest, dd);
            else
                fprintf(out, " = {data_url}/%.*s\n", (int)rl, rest);
        }
        p += len;
    }
}

static int write_one(const char *dir, const char *rel, const af_synth_region *r, int which, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    char *text = NULL;
    size_t tlen = 0;
    FILE *mem = NULL, *final_fp = NULL;
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    mem = open_memstream(&text, &tlen);
    if (!mem) AF_FAIL(AF_ENOMEM, "open_memstream failed");
    final_fp = f.fp;
    f.fp = mem;
    if (which == 0) {
        head(f.fp, r, "synth-tables", "output-tables", 1);
        fputs(table_features, f.fp);
    } else {
        head(f.fp, r, which == 1 ? "synth-agroflux" : "synth-daycent", which == 1 ? "output" : "output-daycent", 0);
        AF_CHECK(af__synth_mgmt_scenarios(f.fp, r, err));
        if (which == 1) splits(f.fp, r);
        weather_inputs(f.fp, which == 2);
        fputs(mgmt_inputs, f.fp);
        soil_inputs(f.fp);
        fputs(which == 2 ? radn_daymet : radn_gridmet, f.fp);
        if (which == 1) {
            ecosys_targets(f.fp);
            if (r->nsites > 0) site_targets(f.fp, r);
        } else {
            fputs(daycent_targets, f.fp);
        }
    }
    f.fp = final_fp;
    if (fclose(mem) != 0) { mem = NULL; AF_FAIL(AF_ENOMEM, "pipeline text: out of memory"); }
    mem = NULL;
    emit_with_urls(f.fp, text, r);
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    if (mem) {
        f.fp = final_fp;
        fclose(mem);
    }
    free(text);
    af__synth_abort(&f);
    return rc;
}

int af__synth_pipelines_write(const char *dir, const af_synth_region *r, unsigned parts, af_error *err)
{
    int rc = AF_OK;
    const unsigned agro = AF_SYNTH_PART_GRIDDED | AF_SYNTH_PART_SOIL | AF_SYNTH_PART_MGMT;
    AF_CHECK(write_one(dir, "pipeline-tables.ini", r, 0, err));
    if ((parts & (agro | AF_SYNTH_PART_OBS | AF_SYNTH_PART_MODELS)) == (agro | AF_SYNTH_PART_OBS | AF_SYNTH_PART_MODELS))
        AF_CHECK(write_one(dir, "pipeline.ini", r, 1, err));
    if ((parts & (agro | AF_SYNTH_PART_MODELS)) == (agro | AF_SYNTH_PART_MODELS))
        AF_CHECK(write_one(dir, "pipeline-daycent.ini", r, 2, err));
cleanup:
    return rc;
}
