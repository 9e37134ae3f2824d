/* SPDX-License-Identifier: MIT */
/*
 * test_opts.c: the typed key getters (agroflux/opts.h). For every getter type,
 * two key tables that differ only in the default give two results for a
 * section without the key (the default lives in the table and nowhere else),
 * the section's own value wins over both, and a bad value is AF_ECONFIG naming
 * file:line, or the --set argument and its position once located. Also: the one
 * list tokenizer's whitespace and empty-item rules, and the bugs the getters
 * catch (an undeclared key, a getter of the wrong type, a bad table default).
 */
#include <stdlib.h>
#include <string.h>

#include "af_test.h"
#include "agroflux/config.h"
#include "agroflux/opts.h"

static af_config_entry entries[8];
static af_config_section sec = { "input.X", 3, entries, 0 };
static af_config cfg;

/* A section holding key = value at line 5 (or none with key NULL); line < 0: the -line-th --set. */
static void setup(const char *key, const char *value, int line)
{
    memset(&cfg, 0, sizeof cfg);
    strcpy(cfg.path, "t.ini");
    strcpy(cfg.dir, "/data/p");
    static char *sets[1];
    static char settext[256];
    sec.nentries = 0;
    if (!key) return;
    entries[0].key = (char *)key;
    entries[0].value = (char *)value;
    entries[0].line = line;
    sec.nentries = 1;
    if (line < 0) {
        snprintf(settext, sizeof settext, "input.X.%s=%s", key, value);
        sets[0] = settext;
        cfg.sets = sets;
        cfg.nsets = 1;
    }
}

#define T(name, type, def, choices) { { name, type, 0, def, choices, "test key" }, { NULL, 0, 0, NULL, NULL, NULL } }

static void test_double(void)
{
    af_key_spec a[] = T("f", AF_KEY_DOUBLE, "0.5", NULL), b[] = T("f", AF_KEY_DOUBLE, "0.25", NULL);
    double x = 0;
    setup(NULL, NULL, 0);
    AF_TEST_PASS(af_opts_get_double(&cfg, &sec, a, "f", &x, err));
    AF_EXPECT(x == 0.5);
    AF_TEST_PASS(af_opts_get_double(&cfg, &sec, b, "f", &x, err));
    AF_EXPECT(x == 0.25);
    setup("f", "0.75", 5);
    AF_TEST_PASS(af_opts_get_double(&cfg, &sec, b, "f", &x, err));
    AF_EXPECT(x == 0.75);
    setup("f", "", 5); /* empty: the default */
    AF_TEST_PASS(af_opts_get_double(&cfg, &sec, b, "f", &x, err));
    AF_EXPECT(x == 0.25);
    setup("f", "half", 5);
    AF_TEST_FAILS_WITH(AF_ECONFIG, "t.ini:5: [input.X] f: 'half' is not a number", af_opts_get_double(&cfg, &sec, a, "f", &x, err));
}

static void test_int(void)
{
    af_key_spec a[] = T("n", AF_KEY_INT, "16", NULL), b[] = T("n", AF_KEY_INT, "12", NULL);
    long n = 0;
    setup(NULL, NULL, 0);
    AF_TEST_PASS(af_opts_get_int(&cfg, &sec, a, "n", &n, err));
    AF_EXPECT(n == 16);
    AF_TEST_PASS(af_opts_get_int(&cfg, &sec, b, "n", &n, err));
    AF_EXPECT(n == 12);
    setup("n", "7", 5);
    AF_TEST_PASS(af_opts_get_int(&cfg, &sec, a, "n", &n, err));
    AF_EXPECT(n == 7);
    setup("n", "7.5", 5);
    AF_TEST_FAILS_WITH(AF_ECONFIG, "t.ini:5: [input.X] n: '7.5' is not an integer", af_opts_get_int(&cfg, &sec, a, "n", &n, err));
}

static void test_choice_and_bool(void)
{
    af_key_spec a[] = T("m", AF_KEY_CHOICE, "nearest", "nearest|bilinear"),
                b[] = T("m", AF_KEY_CHOICE, "bilinear", "nearest|bilinear");
    int i = -1;
    setup(NULL, NULL, 0);
    AF_TEST_PASS(af_opts_get_choice(&cfg, &sec, a, "m", &i, err));
    AF_EXPECT(i == 0);
    AF_TEST_PASS(af_opts_get_choice(&cfg, &sec, b, "m", &i, err));
    AF_EXPECT(i == 1);
    setup("m", "nearest", 5);
    AF_TEST_PASS(af_opts_get_choice(&cfg, &sec, b, "m", &i, err));
    AF_EXPECT(i == 0);
    setup("m", "cubic", 5);
    AF_TEST_FAILS_WITH(AF_ECONFIG, "t.ini:5: [input.X] m: 'cubic' is not one of nearest|bilinear",
                       af_opts_get_choice(&cfg, &sec, a, "m", &i, err));
    af_key_spec y[] = T("flip", AF_KEY_CHOICE, "yes", "yes|no"), n[] = T("flip", AF_KEY_CHOICE, "no", "yes|no");
    int v = -1;
    setup(NULL, NULL, 0);
    AF_TEST_PASS(af_opts_get_bool(&cfg, &sec, y, "flip", &v, err));
    AF_EXPECT(v == 1);
    AF_TEST_PASS(af_opts_get_bool(&cfg, &sec, n, "flip", &v, err));
    AF_EXPECT(v == 0);
    setup("flip", "yes", 5);
    AF_TEST_PASS(af_opts_get_bool(&cfg, &sec, n, "flip", &v, err));
    AF_EXPECT(v == 1);
    AF_TEST_FAILS_WITH(AF_EINTERNAL, "yes|no key", af_opts_get_bool(&cfg, &sec, a, "m", &v, err));
}

static void test_string_and_path(void)
{
    af_key_spec a[] = T("c", AF_KEY_STRING, "flux", NULL), b[] = T("c", AF_KEY_STRING, "nee", NULL);
    const char *s = NULL;
    setup(NULL, NULL, 0);
    AF_TEST_PASS(af_opts_get_string(&cfg, &sec, a, "c", &s, err));
    AF_EXPECT(s && !strcmp(s, "flux"));
    AF_TEST_PASS(af_opts_get_string(&cfg, &sec, b, "c", &s, err));
    AF_EXPECT(s && !strcmp(s, "nee"));
    af_key_spec p1[] = T("d", AF_KEY_STRING, ".cache", NULL), p2[] = T("d", AF_KEY_STRING, "", NULL);
    char out[256];
    AF_TEST_PASS(af_opts_get_path(&cfg, &sec, p1, "d", out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/data/p/.cache"));
    AF_TEST_PASS(af_opts_get_path(&cfg, &sec, p2, "d", out, sizeof out, err));
    AF_EXPECT(out[0] == '\0');
    setup("d", "/abs/w", 5);
    AF_TEST_PASS(af_opts_get_path(&cfg, &sec, p1, "d", out, sizeof out, err));
    AF_EXPECT(!strcmp(out, "/abs/w"));
}

static void test_list(void)
{
    af_key_spec a[] = T("l", AF_KEY_LIST, "1,5", NULL), b[] = T("l", AF_KEY_LIST, "base", NULL);
    af_list l = AF_LIST_INIT;
    setup(NULL, NULL, 0);
    AF_TEST_PASS(af_opts_get_list(&cfg, &sec, a, "l", &l, err));
    AF_EXPECT(l.n == 2 && !strcmp(l.items[0], "1") && !strcmp(l.items[1], "5"));
    af_list_dispose(&l);
    AF_TEST_PASS(af_opts_get_list(&cfg, &sec, b, "l", &l, err));
    AF_EXPECT(l.n == 1 && !strcmp(l.items[0], "base"));
    af_list_dispose(&l);
    setup("l", " a b ,\tc,d\t", 5); /* spaces and tabs around items go; inside an item they stay */
    AF_TEST_PASS(af_opts_get_list(&cfg, &sec, a, "l", &l, err));
    AF_EXPECT(l.n == 3 && !strcmp(l.items[0], "a b") && !strcmp(l.items[1], "c") && !strcmp(l.items[2], "d"));
    af_list_dispose(&l);
    setup("l", "a,,b", 5);
    AF_TEST_FAILS_WITH(AF_ECONFIG, "t.ini:5: [input.X] l: 'a,,b' has an empty entry", af_opts_get_list(&cfg, &sec, a, "l", &l, err));
    setup("l", "a,b,", 5); /* one trailing comma is allowed */
    AF_TEST_PASS(af_opts_get_list(&cfg, &sec, a, "l", &l, err));
    AF_EXPECT(l.n == 2 && !strcmp(l.items[1], "b"));
    af_list_dispose(&l);
    setup("l", "a, ,", 5);
    AF_TEST_FAILS_WITH(AF_ECONFIG, "has an empty entry", af_opts_get_list(&cfg, &sec, a, "l", &l, err));
    AF_TEST_PASS(af_list_split(" \t ", &l, err));
    AF_EXPECT(l.n == 0);
    AF_TEST_FAILS_WITH(AF_EINVAL, "empty item in ' ,x'", af_list_split(" ,x", &l, err));
}

/* A value from --set: the error names the --set and its position once located. */
static void test_set_location(void)
{
    af_key_spec a[] = T("f", AF_KEY_DOUBLE, "0.5", NULL);
    double x;
    setup("f", "lots", -1);
    af_error e = AF_ERROR_INIT;
    AF_EXPECT(af_opts_get_double(&cfg, &sec, a, "f", &x, &e) == AF_ECONFIG);
    af_config_locate_error(&cfg, &e);
    AF_EXPECT(strstr(e.msg, "--set 'input.X.f=lots' (#1 on the command line): [input.X] f: 'lots' is not a number") == e.msg);
    if (strstr(e.msg, "--set") != e.msg) fprintf(stderr, "  got: %s\n", e.msg);
}

static void test_bugs_caught(void)
{
    af_key_spec a[] = T("f", AF_KEY_DOUBLE, "0.5", NULL), bad[] = T("f", AF_KEY_DOUBLE, "half", NULL);
    double x;
    long n;
    setup(NULL, NULL, 0);
    AF_TEST_FAILS_WITH(AF_EINTERNAL, "does not declare", af_opts_get_double(&cfg, &sec, a, "g", &x, err));
    AF_TEST_FAILS_WITH(AF_EINTERNAL, "getter of another type", af_opts_get_int(&cfg, &sec, a, "f", &n, err));
    AF_TEST_FAILS_WITH(AF_EINTERNAL, "default 'half' is not a number", af_opts_get_double(&cfg, &sec, bad, "f", &x, err));
    /* the common feature keys are found without being in the kind's table */
    const char *s;
    AF_TEST_PASS(af_opts_get_string(&cfg, &sec, a, "applies_to", &s, err));
    AF_EXPECT(s && !strcmp(s, "all"));
}

int main(void)
{
    AF_RUN(test_double);
    AF_RUN(test_int);
    AF_RUN(test_choice_and_bool);
    AF_RUN(test_string_and_path);
    AF_RUN(test_list);
    AF_RUN(test_set_location);
    AF_RUN(test_bugs_caught);
    return AF_TEST_END();
}
