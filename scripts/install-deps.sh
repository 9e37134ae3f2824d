#!/usr/bin/env bash
# Installs every Debian package agroflux needs to build, run its demo and run its whole test suite.
# Idempotent: packages already present are left alone; safe to run as root on a fresh Debian 12.
set -euo pipefail
PKGS=(build-essential meson ninja-build pkg-config
      libopenmpi-dev openmpi-bin libpnetcdf-dev pnetcdf-bin
      libgdal-dev gdal-bin libproj-dev proj-bin libgeos-dev
      libinih-dev libjansson-dev libssl-dev libcurl4-openssl-dev
      libnetcdf-dev netcdf-bin
      python3 python3-numpy python3-netcdf4 python3-gdal
      python3-xarray python3-dask python3-matplotlib python3-torch
      python3-setuptools python3-pip python3-venv
      libudunits2-dev udunits-bin cdo nco chromium
      clang libclang-rt-14-dev
      slurm-wlm slurmctld slurmd slurm-client munge)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
