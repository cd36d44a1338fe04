/*
 * Typed attribute access for topology files: each getter validates the text (integer, hex,
 * range, PCI bus id, PCIe speed) and reports a bad value naming the file, line, element and
 * attribute, with the range it expected.
 */
#ifndef BRAID_TOPOLOGY_TOPO_ATTR_H
#define BRAID_TOPOLOGY_TOPO_ATTR_H

#include <stdint.h>

#include "braid.h"
#include "topology/topo_xml.h"

/* PCI class prefixes (class >> 8) that mark GPUs and NICs in partial files. */
#define BRAID_PCI_CLASS_BRIDGE   0x0604
#define BRAID_PCI_CLASS_NVSWITCH 0x068000
#define BRAID_PCI_CLASS_NVLCPU   0x068001

/* Missing attribute: *out = dflt. Present: parsed as an integer (decimal or 0x hex) in
 * [min, max]. */
braid_result_t braid__attr_int(const char *file, const struct braid_xml_elem *e, const char *name,
                               int64_t min, int64_t max, int64_t dflt, int64_t *out);
/* An unsigned 64-bit value (GUIDs); 0 when missing. */
braid_result_t braid__attr_u64(const char *file, const struct braid_xml_elem *e, const char *name,
                               uint64_t *out);
/* As braid__attr_int for a finite number. */
braid_result_t braid__attr_float(const char *file, const struct braid_xml_elem *e, const char *name,
                                 double min, double max, double dflt, double *out);
/* A PCIe link speed "16 GT/s", "16.0 GT/s PCIe" or "Unknown"; 0 when unknown. */
braid_result_t braid__attr_speed(const char *file, const struct braid_xml_elem *e, float *gts);
/* A PCI bus id "dddd:bb:dd.f" (any domain width), normalised to lower case and a 4-digit
 * domain into out (at least 32 bytes). Missing: out[0] = 0. */
braid_result_t braid__attr_busid(const char *file, const struct braid_xml_elem *e, const char *name,
                                 char *out);
/* Normalises a bus id in place; returns 0 if it is not one. */
int braid__busid_normalize(const char *in, char *out, int outlen);
/* A value from a small list of names (case-insensitive); *out = index, dflt when missing. */
braid_result_t braid__attr_enum(const char *file, const struct braid_xml_elem *e, const char *name,
                                const char *const *names, int nnames, int dflt, int *out);

int braid__pcie_gen(float gts);

#endif
