#!/usr/bin/env bash
# Installs braid into a scratch prefix, then builds a program against it twice: with
# pkg-config and with find_package(braid), and runs both (a 1-rank all-reduce). A second
# program uses the experimental braid_ext.h (installed beside braid.h) the same two ways.
set -eu
if [ -n "${BRAID_TEST_SANITIZED:-}" ]; then
  echo "SKIP: sanitizer build (consumers would need the sanitizer runtime linked first)"
  exit 77
fi
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cat >"$work/app.c" <<'C'
#include <braid.h>
#include <stdio.h>
int main(void)
{
    braid_unique_id_t id;
    braid_comm_t comm;
    float in[3] = {1, 2, 3}, out[3] = {0};
    if (braid_get_unique_id(&id) || braid_comm_init_rank(&comm, 1, id, 0) ||
        braid_all_reduce(in, out, 3, BRAID_FLOAT32, BRAID_SUM, comm, NULL) ||
        braid_comm_destroy(comm) || out[2] != 3) {
        fprintf(stderr, "failed: %s\n", braid_last_error(NULL));
        return 1;
    }
    printf("ok %s\n", braid_version_string());
    return 0;
}
C
cat >"$work/ext.c" <<'C'
#include <braid_ext.h>
#include <stdio.h>
int main(void)
{
    int ring = -1;
    if (braid_algo_find("ring", &ring) || braid_plan_verify(BRAID_ALL_REDUCE, ring, 4, 0, 1, 0)) {
        fprintf(stderr, "failed: %s\n", braid_last_error(NULL));
        return 1;
    }
    printf("ext ok: %d algorithms, ring all_reduce verified\n", braid_algo_count());
    return 0;
}
C
libdir=$(find "$work/prefix" -name 'libbraid.so' -printf '%h\n' | head -1)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc "$work/app.c" -o "$work/app_pc" $(pkg-config --cflags --libs braid) -Wl,-rpath,"$libdir"
"$work/app_pc"
cc "$work/ext.c" -o "$work/ext_pc" $(pkg-config --cflags --libs braid) -Wl,-rpath,"$libdir"
"$work/ext_pc"
mkdir -p "$work/cm"
cat >"$work/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(app C)
find_package(braid REQUIRED)
add_executable(app_cmake $work/app.c)
target_link_libraries(app_cmake braid::braid)
add_executable(app_static $work/app.c)
target_link_libraries(app_static braid::braid_static)
add_executable(ext_cmake $work/ext.c)
target_link_libraries(ext_cmake braid::braid)
CM
cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cm/build" >/dev/null
"$work/cm/build/app_cmake"
"$work/cm/build/app_static"
"$work/cm/build/ext_cmake"
echo "install, pkg-config and find_package(braid) work, braid.h and braid_ext.h"
