/* SPDX-License-Identifier: MIT */
/*
 * synth_obs.c: synthetic observation files for the synth sites (synth_obs.h).
 * Site s (1-based, id US-Sx<s>), date d (day of year doy), variable v, record r
 * (0-based within the day; r = minutes-after-midnight / step):
 *   h = 100*A_v + 10*s + 3*(doy mod 50) + (year mod 100) + 7*r, value = h / 100
 *   v/A: 1 TA 2 degC, 2 P 0 mm, 3 SW_IN 150 W m-2, 4 FC -3 umol m-2 s-1 (BASE);
 *        5 NEE_VUT_REF -4, 6 RECO_NT_VUT_REF 3, 7 GPP_NT_VUT_REF 6, 8 GPP_DT_VUT_REF 7
 *        (FULLSET; umol m-2 s-1 in HH, g C m-2 d-1 in DD where r = 0); the FULLSET
 *        meteo columns are TA_F, P_F, SW_IN_F with v = 1, 2, 3.
 *   BASE (HH odd s, HR even s) holes, per variable: on days with (s+doy+v) mod 7 == 0
 *        records with r mod 4 != 0 are -9999; else on days with (s+doy+v) mod 3 == 0
 *        records with (r+s+v) mod 5 == 0 are -9999; on days with doy mod 17 == 5 no
 *        row starts in 05:00-05:59 (absent records). Two '#' lines precede the header.
 *   FULLSET HH: -9999 where (s+doy+v) mod 13 == 0 and r == 0; NEE_VUT_REF_QC =
 *        r mod 2 when r < 8*(1 + (s+doy) mod 5), else 2 + r mod 2.
 *   FULLSET DD: -9999 where (s+doy+v) mod 13 == 0; NEE_VUT_REF_QC = ((s+doy) mod 5) / 4.
 *   Chambers (one file, chamber id = site id for odd s, "C<s>" for even s; flux in
 *        nmol m-2 s-1, positive = emission): rows at hh:00 for every hour, and also
 *        at hh:30 when hh mod 6 == 0; hundredths 10*s + 3*(doy mod 50) + 7*hh + m - 100
 *        (m = 0 at :00, 1 at :30); "NA" when (s+doy+hh) mod 9 == 0; on days with
 *        (s+doy) mod 6 == 0 no rows from 15:00 on.
 * docs/formats.md ("synth observations") states the same rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_check.h"
#include "af_util.h"
#include "agroflux/calendar.h"
#include "synth_io.h"
#include "synth_obs.h"

enum { V_TA = 1, V_P, V_SW, V_FC, V_NEE, V_RECO, V_GPP_NT, V_GPP_DT };
static const int obs_a[9] = { 0, 2, 0, 150, -3, -4, 3, 6, 7 };

static long obs_h(int v, int s, af_date d, int r)
{
    return 100L * obs_a[v] + 10L * s + 3L * (af_date_doy(d) % 50) + d.year % 100 + 7L * r;
}

static void put_h(FILE *fp, long h)
{
    fputc(',', fp);
    af__synth_put_hundredths(fp, h);
}

static int base_hole(int v, int s, int doy, int r)
{
    if ((s + doy + v) % 7 == 0) return r % 4 != 0;
    if ((s + doy + v) % 3 == 0) return (r + s + v) % 5 == 0;
    return 0;
}

static void put_stamp(FILE *fp, af_date d, int minutes, const char *sep)
{
    af_date e = d;
    if (minutes >= 1440) { e = af_date_from_epoch(af_date_to_epoch(d) + 1); minutes -= 1440; }
    fprintf(fp, "%04d%02d%02d%02d%02d%s", e.year, e.month, e.day, minutes / 60, minutes % 60, sep);
}

static int write_base(const char *dir, int s, const af_synth_region *o, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    char rel[128];
    int step = s % 2 ? 30 : 60;
    snprintf(rel, sizeof rel, "towers/AMF_%s_BASE_%s_1-5.csv", o->site[s - 1].id, step == 30 ? "HH" : "HR");
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    fprintf(f.fp, "# Site: %s\n# Version: 1-5 (agroflux synth)\n", o->site[s - 1].id);
    fprintf(f.fp, "TIMESTAMP_START,TIMESTAMP_END,CO2,FC,TA,SW_IN,P\n");
    long e0 = af_date_to_epoch((af_date){ o->year0, 1, 1 }), e1 = af_date_to_epoch((af_date){ o->year1, 12, 31 });
    static const int cols[4] = { V_FC, V_TA, V_SW, V_P };
    for (long e = e0; e <= e1; e++) {
        af_date d = af_date_from_epoch(e);
        int doy = af_date_doy(d);
        for (int r = 0; r < 1440 / step; r++) {
            if (doy % 17 == 5 && r * step >= 300 && r * step < 360) continue;
            put_stamp(f.fp, d, r * step, ",");
            put_stamp(f.fp, d, (r + 1) * step, "");
            fprintf(f.fp, ",-9999");  /* CO2 concentration: never read */
            for (int j = 0; j < 4; j++) {
                if (base_hole(cols[j], s, doy, r)) fprintf(f.fp, ",-9999");
                else put_h(f.fp, obs_h(cols[j], s, d, r));
            }
            fputc('\n', f.fp);
        }
    }
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

/* FULLSET columns after the timestamps, in file order; 0 marks NEE_VUT_REF_QC. */
static const int fullset_cols[8] = { V_TA, V_SW, V_P, V_NEE, 0, V_RECO, V_GPP_NT, V_GPP_DT };
static const char *const fullset_header =
    "TA_F,SW_IN_F,P_F,NEE_VUT_REF,NEE_VUT_REF_QC,RECO_NT_VUT_REF,GPP_NT_VUT_REF,GPP_DT_VUT_REF\n";

static int write_fullset(const char *dir, int s, int daily, const af_synth_region *o, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    char rel[160];
    snprintf(rel, sizeof rel, "fluxnet/FLX_%s_FLUXNET2015_FULLSET_%s_%d-%d_1-4.csv", o->site[s - 1].id, daily ? "DD" : "HH",
             o->year0, o->year1);
    AF_CHECK(af__synth_open(dir, rel, &f, err));
    fprintf(f.fp, "%s,%s", daily ? "TIMESTAMP" : "TIMESTAMP_START,TIMESTAMP_END", fullset_header);
    long e0 = af_date_to_epoch((af_date){ o->year0, 1, 1 }), e1 = af_date_to_epoch((af_date){ o->year1, 12, 31 });
    for (long e = e0; e <= e1; e++) {
        af_date d = af_date_from_epoch(e);
        int doy = af_date_doy(d);
        for (int r = 0; r < (daily ? 1 : 48); r++) {
            if (daily) fprintf(f.fp, "%04d%02d%02d,", d.year, d.month, d.day);
            else { put_stamp(f.fp, d, r * 30, ","); put_stamp(f.fp, d, (r + 1) * 30, ","); }
            for (int j = 0; j < 8; j++) {
                int v = fullset_cols[j];
                if (j) fputc(',', f.fp);
                if (v == 0 && daily) fprintf(f.fp, "%.2f", ((s + doy) % 5) / 4.0);
                else if (v == 0) fprintf(f.fp, "%d", r < 8 * (1 + (s + doy) % 5) ? r % 2 : 2 + r % 2);
                else if ((s + doy + v) % 13 == 0 && r == 0) fprintf(f.fp, "-9999");
                else af__synth_put_hundredths(f.fp, obs_h(v, s, d, r));
            }
            fputc('\n', f.fp);
        }
    }
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

static int write_chambers(const char *dir, const af_synth_region *o, af_error *err)
{
    int rc = AF_OK;
    af_synth_file f = { 0 };
    AF_CHECK(af__synth_open(dir, "chambers/chambers.csv", &f, err));
    fprintf(f.fp, "# synthetic N2O chamber fluxes, nmol m-2 s-1, positive = emission\nchamber,timestamp,flux\n");
    long e0 = af_date_to_epoch((af_date){ o->year0, 1, 1 }), e1 = af_date_to_epoch((af_date){ o->year1, 12, 31 });
    for (long e = e0; e <= e1; e++) {
        af_date d = af_date_from_epoch(e);
        int doy = af_date_doy(d);
        for (int hh = 0; hh < 24; hh++) {
            for (int m = 0; m < (hh % 6 == 0 ? 2 : 1); m++) {
                for (int s = 1; s <= o->nsites; s++) {
                    if ((s + doy) % 6 == 0 && hh >= 15) continue;
                    if (s % 2) fprintf(f.fp, "%s", o->site[s - 1].id);
                    else fprintf(f.fp, "C%d", s);
                    fprintf(f.fp, ",%04d-%02d-%02d %02d:%02d", d.year, d.month, d.day, hh, m * 30);
                    if ((s + doy + hh) % 9 == 0) fprintf(f.fp, ",NA");
                    else put_h(f.fp, 10L * s + 3L * (doy % 50) + 7L * hh + m - 100);
                    fputc('\n', f.fp);
                }
            }
        }
    }
    AF_CHECK(af__synth_close(&f, err));
cleanup:
    af__synth_abort(&f);
    return rc;
}

int af__synth_obs_write(const char *dir, const af_synth_region *o, af_error *err)
{
    int rc = AF_OK;
    AF_CHECK_ARG(dir && o);
    for (int s = 1; s <= o->nsites; s++) {
        AF_CHECK(write_base(dir, s, o, err));
        AF_CHECK(write_fullset(dir, s, 1, o, err));
        AF_CHECK(write_fullset(dir, s, 0, o, err));
    }
    if (o->nsites > 0) AF_CHECK(write_chambers(dir, o, err));
cleanup:
    return rc;
}
