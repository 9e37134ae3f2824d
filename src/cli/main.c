/* SPDX-License-Identifier: MIT */
#include <stdio.h>
int main(void) { puts("agroflux"); return 0; }
