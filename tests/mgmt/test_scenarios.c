/* SPDX-License-Identifier: MIT */
/*
 * test_scenarios.c: [scenario.NAME] sections of the pipeline file. A valid
 * file gives af_scenario_cfg entries in file order (rates, units, timings,
 * splits, rotation, fertilized crops) and the [counties] scenario list from
 * them; the name-only `scenarios = a, b` list still works alone and must agree
 * with the sections when both are given. Then every error path: AF_ECONFIG
 * naming file:line, the section and the key. Also af_crop_parse, and that
 * `agroflux keys` Markdown lists the section's keys.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/config.h"
#include "agroflux/source.h"
#include "fixture_files.h"

#define PIPE "[pipeline]\nname = t\nstart = 2003-01-01\nend = 2004-12-31\n" /* lines 1-4 */
#define CNTY "[counties]\nlayer = counties.geojson\nid_field = GEOID\n"      /* lines 5-7 (+8 if a key follows) */

static void expect_fail(int line, const char *name, const char *text, int code, ...)
{
    const char *path = fx_write(name, text);
    af_config *cfg = NULL;
    af_error e = AF_ERROR_INIT;
    int rc = af_config_load(path, &cfg, &e);
    if (rc != code) {
        fprintf(stderr, "%s:%d: %s: returned %s, expected %s (msg: %s)\n", __FILE__, line, name, af_status_name(rc),
                af_status_name(code), e.msg);
        af_test_case_failed = 1;
    }
    if (cfg) af_config_destroy(&cfg);
    va_list ap;
    va_start(ap, code);
    for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
        if (!strstr(e.msg, n)) {
            fprintf(stderr, "%s:%d: %s: message '%s' lacks '%s'\n", __FILE__, line, name, e.msg, n);
            af_test_case_failed = 1;
        }
    va_end(ap);
}
#define FAILS(name, text, ...) expect_fail(__LINE__, name, text, AF_ECONFIG, __VA_ARGS__, (const char *)NULL)

static const char *at(const char *name, int line)
{
    static char buf[8][1200];
    static int k = 0;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s:%d:", fx_path(name), line);
    return buf[k];
}

static const char valid_ini[] =
    PIPE CNTY                                  /* 1-7 */
    "\n"                                       /* 8 */
    "[scenario.C_S_150N_Planting]\n"           /* 9 */
    "rotation = C, S\n"                        /* 10 */
    "n_rate = 150\n"                           /* 11 */
    "n_units = kg N ha-1\n"                    /* 12 */
    "n_timing = planting\n"                    /* 13 */
    "n_crops = corn\n"                         /* 14 */
    "\n"                                       /* 15 */
    "[scenario.S_C_150N_30afPlanting]\n"       /* 16 */
    "rotation = S, C\n"                        /* 17 */
    "rotation_start = 2001\n"                  /* 18 */
    "n_rate = 150\n"                           /* 19 */
    "n_timing = after_planting\n"              /* 20 */
    "n_days = 30\n"                            /* 21 */
    "n_crops = 1\n"                            /* 22 */
    "\n"                                       /* 23 */
    "[scenario.SPLIT]\n"                       /* 24 */
    "n_rate = 20\n"                            /* 25 */
    "n_units = g N m-2\n"                      /* 26 */
    "n_timing = planting, after_planting, doy\n" /* 27 */
    "n_days = 0, 30, 200\n"                    /* 28 */
    "n_split = 0.25, 0.5, 0.25\n"              /* 29 */
    "\n"                                       /* 30 */
    "[scenario.N000]\n";                       /* 31 */

static void test_valid(void)
{
    af_config *cfg = NULL;
    AF_TEST_PASS(af_config_load(fx_write("valid.ini", valid_ini), &cfg, err));
    if (!cfg) return;
    AF_EXPECT(cfg->nscenario_defs == 4 && cfg->nscenarios == 4);
    if (cfg->nscenarios != 4 || cfg->nscenario_defs != 4) { af_config_destroy(&cfg); return; }
    static const char *const names[4] = { "C_S_150N_Planting", "S_C_150N_30afPlanting", "SPLIT", "N000" };
    for (int i = 0; i < 4; i++) {
        AF_EXPECT(!strcmp(cfg->scenarios[i], names[i]));
        AF_EXPECT(!strcmp(cfg->scenario_defs[i].name, names[i]));
        AF_EXPECT(af_config_scenario(cfg, names[i]) == &cfg->scenario_defs[i]);
    }
    AF_EXPECT(af_config_scenario(cfg, "nope") == NULL);
    const af_scenario_cfg *a = &cfg->scenario_defs[0], *b = &cfg->scenario_defs[1], *c = &cfg->scenario_defs[2],
                          *d = &cfg->scenario_defs[3];
    AF_EXPECT(a->line == 9 && b->line == 16 && c->line == 24 && d->line == 31);
    AF_EXPECT(a->n_rate == 150.0 && !strcmp(a->n_units, "kg N ha-1") && a->napps == 1);
    AF_EXPECT(a->apps[0].timing == AF_N_PLANTING && a->apps[0].days == 0 && a->apps[0].fraction == 1.0);
    AF_EXPECT(a->nrotation == 2 && a->rotation[0] == 1 && a->rotation[1] == 5 && a->rotation_start == 2003);
    AF_EXPECT(a->nn_crops == 1 && a->n_crops[0] == 1);
    AF_EXPECT(b->nrotation == 2 && b->rotation[0] == 5 && b->rotation[1] == 1 && b->rotation_start == 2001);
    AF_EXPECT(b->apps[0].timing == AF_N_AFTER_PLANTING && b->apps[0].days == 30 && !strcmp(b->n_units, "kg N ha-1"));
    AF_EXPECT(c->napps == 3 && c->n_rate == 20.0 && !strcmp(c->n_units, "g N m-2"));
    AF_EXPECT(c->apps[1].timing == AF_N_AFTER_PLANTING && c->apps[1].days == 30 && c->apps[1].fraction == 0.5);
    AF_EXPECT(c->apps[2].timing == AF_N_DOY && c->apps[2].days == 200 && c->apps[2].fraction == 0.25);
    AF_EXPECT(c->nrotation == 0 && c->nn_crops == 0);
    AF_EXPECT(d->n_rate == 0.0 && d->napps == 1 && d->apps[0].timing == AF_N_PLANTING);
    af_config_destroy(&cfg);
}

static void test_list_key(void)
{
    af_config *cfg = NULL;
    /* name-only list, no sections: as before */
    AF_TEST_PASS(af_config_load(fx_write("names.ini", PIPE CNTY "scenarios = a, b\n"), &cfg, err));
    if (cfg) {
        AF_EXPECT(cfg->nscenarios == 2 && cfg->nscenario_defs == 0 && !strcmp(cfg->scenarios[1], "b"));
        AF_EXPECT(cfg->scenario_defs == NULL && af_config_scenario(cfg, "a") == NULL);
        af_config_destroy(&cfg);
    }
    /* both, consistent (sections before [counties] too) */
    AF_TEST_PASS(af_config_load(fx_write("both.ini", PIPE "[scenario.x]\nn_rate = 1\n[scenario.y]\n" CNTY "scenarios = x, y\n"),
                                &cfg, err));
    if (cfg) {
        AF_EXPECT(cfg->nscenarios == 2 && cfg->nscenario_defs == 2 && !strcmp(cfg->scenarios[0], "x"));
        af_config_destroy(&cfg);
    }
}

static void test_errors(void)
{
    /* [counties] scenarios and the sections disagree: the error names the scenarios line */
    FAILS("count.ini", PIPE CNTY "scenarios = x\n[scenario.x]\n[scenario.y]\n", at("count.ini", 8), "[counties] scenarios",
          "lists 1 names", "2 [scenario.*]");
    FAILS("order.ini", PIPE CNTY "scenarios = y, x\n[scenario.x]\n[scenario.y]\n", at("order.ini", 8), "entry 1 is 'y'",
          "section 1 is 'x'");
    FAILS("nocounties.ini", PIPE "[sites]\nlist = sites.csv\n[scenario.x]\n", at("nocounties.ini", 7), "[scenario.x]",
          "no [counties]");
    FAILS("twice.ini", PIPE CNTY "[scenario.x]\n[scenario.x]\n", at("twice.ini", 9), "[scenario.x] appears twice");
    FAILS("noname.ini", PIPE CNTY "[scenario.]\n", at("noname.ini", 8), "1..63 characters");
    FAILS("badname.ini", PIPE CNTY "[scenario.a:b]\n", at("badname.ini", 8), "may not contain ':'");
    FAILS("unknown.ini", PIPE CNTY "[scenario.x]\nn_rat = 3\n", at("unknown.ini", 9), "[scenario.x] unknown key 'n_rat'");
    FAILS("ratetext.ini", PIPE CNTY "[scenario.x]\nn_rate = lots\n", at("ratetext.ini", 9), "n_rate", "'lots' is not a number");
    FAILS("rateneg.ini", PIPE CNTY "[scenario.x]\nn_rate = -1\n", at("rateneg.ini", 9), "n_rate", "negative");
    FAILS("unitsbad.ini", PIPE CNTY "[scenario.x]\nn_units = bushels\n", at("unitsbad.ini", 9), "[scenario.x] n_units",
          "unknown units 'bushels'");
    FAILS("unitswrong.ini", PIPE CNTY "[scenario.x]\nn_units = g C m-2\n", at("unitswrong.ini", 9), "n_units", "cannot convert");
    FAILS("timing.ini", PIPE CNTY "[scenario.x]\nn_timing = sowing\n", at("timing.ini", 9), "n_timing",
          "'sowing' is not one of planting|after_planting|doy");
    FAILS("emptyentry.ini", PIPE CNTY "[scenario.x]\nn_timing = planting,,doy\n", at("emptyentry.ini", 9), "n_timing",
          "empty entry");
    FAILS("toomany.ini", PIPE CNTY "[scenario.x]\nn_timing = doy,doy,doy,doy,doy,doy,doy,doy,doy\n",
          at("toomany.ini", 9), "n_timing", "more than 8 entries");
    FAILS("daysneed.ini", PIPE CNTY "[scenario.x]\nn_timing = after_planting\n", at("daysneed.ini", 8), "n_days",
          "required for n_timing = after_planting");
    FAILS("daysn.ini", PIPE CNTY "[scenario.x]\nn_timing = doy, doy\nn_days = 1\nn_split = 0.5, 0.5\n", at("daysn.ini", 10),
          "n_days: 1 entries for 2 n_timing entries");
    FAILS("daystext.ini", PIPE CNTY "[scenario.x]\nn_timing = doy\nn_days = May\n", at("daystext.ini", 10), "n_days",
          "'May' is not an integer");
    FAILS("daysplant.ini", PIPE CNTY "[scenario.x]\nn_days = 3\n", at("daysplant.ini", 9), "'3' for planting must be 0");
    FAILS("daysafter.ini", PIPE CNTY "[scenario.x]\nn_timing = after_planting\nn_days = -2\n", at("daysafter.ini", 10),
          "'-2' for after_planting is not in 0..365");
    FAILS("daysdoy.ini", PIPE CNTY "[scenario.x]\nn_timing = doy\nn_days = 367\n", at("daysdoy.ini", 10),
          "'367' for doy is not a day of year");
    FAILS("splitneed.ini", PIPE CNTY "[scenario.x]\nn_timing = planting, doy\nn_days = 0, 100\n", at("splitneed.ini", 8),
          "n_split: required with 2 applications");
    FAILS("splitn.ini", PIPE CNTY "[scenario.x]\nn_split = 0.5, 0.5\n", at("splitn.ini", 9),
          "n_split: 2 entries for 1 n_timing entries");
    FAILS("splitbad.ini", PIPE CNTY "[scenario.x]\nn_timing = doy, doy\nn_days = 1, 2\nn_split = 0, 1\n",
          at("splitbad.ini", 11), "n_split", "'0' is not a share in (0, 1]");
    FAILS("splitsum.ini", PIPE CNTY "[scenario.x]\nn_timing = doy, doy\nn_days = 1, 2\nn_split = 0.3, 0.6\n",
          at("splitsum.ini", 11), "n_split", "sum to 0.9");
    FAILS("rotation.ini", PIPE CNTY "[scenario.x]\nrotation = C, W\n", at("rotation.ini", 9), "[scenario.x] rotation",
          "'W' is not a crop");
    FAILS("ncrops.ini", PIPE CNTY "[scenario.x]\nn_crops = 256\n", at("ncrops.ini", 9), "n_crops", "'256' is not a crop");
    FAILS("rotstart.ini", PIPE CNTY "[scenario.x]\nrotation_start = 2001\n", at("rotstart.ini", 9),
          "rotation_start: given without rotation");
    FAILS("rotstartbad.ini", PIPE CNTY "[scenario.x]\nrotation = C\nrotation_start = 0\n", at("rotstartbad.ini", 10),
          "rotation_start", "not a positive integer");
}

static void test_crop_parse(void)
{
    static const struct { const char *t; int ok, code; } cases[] = {
        { "C", 1, 1 }, { "corn", 1, 1 }, { "Corn", 1, 1 }, { "S", 1, 5 }, { "soybean", 1, 5 }, { "soy", 1, 5 },
        { "24", 1, 24 }, { "0", 1, 0 }, { "255", 1, 255 }, { "256", 0, 0 }, { "-1", 0, 0 }, { "wheat", 0, 0 }, { "", 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int code = -7, ok = af_crop_parse(cases[i].t, &code);
        AF_EXPECT(ok == cases[i].ok);
        if (ok && cases[i].ok) AF_EXPECT(code == cases[i].code);
    }
}

static void test_keys_markdown(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    af_config_print_keys_markdown(fp);
    af_source_print_keys_markdown(fp);
    fclose(fp);
    static const char *const want[] = { "### [scenario.NAME]", "| `n_rate` |", "| `n_units` |", "| `n_timing` |",
                                        "| `n_days` |", "| `n_split` |", "| `rotation` |", "| `rotation_start` |",
                                        "| `n_crops` |", "source = management", "| `variable` |", "| `events` |" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(buf, want[i])) {
            fprintf(stderr, "keys markdown lacks '%s'\n", want[i]);
            af_test_case_failed = 1;
        }
    free(buf);
}

int main(void)
{
    if (fx_setup("scenarios") != 0) return 1;
    AF_RUN(test_valid);
    AF_RUN(test_list_key);
    AF_RUN(test_errors);
    AF_RUN(test_crop_parse);
    AF_RUN(test_keys_markdown);
    fx_rmtree(fx_tmp);
    return AF_TEST_END();
}
