/*
 * libFuzzer target for the topology XML reader: any input must load or fail with an error,
 * never crash, hang or leak; what loads must dump, and its paths must be computable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "topology/topo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fuzzer links the reader's sources and core/error.c alone; the public API file that
 * names result codes pulls in the whole runtime, so a stand-in names them here. */
__attribute__((weak)) const char *braid_result_string(braid_result_t result)
{
    return result == BRAID_SUCCESS ? "BRAID_SUCCESS" : "BRAID_ERR";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct braid_topo *topo = NULL;
    if (braid__topo_load_buffer((const char *)data, size, "fuzz", &topo) != BRAID_SUCCESS)
        return 0;
    char *text = NULL;
    size_t len = 0;
    if (braid__topo_dump_buffer(topo, &text, &len) == BRAID_SUCCESS)
        free(text);
    int ngpus = braid__topo_ngpus(topo);
    for (int g = 0; g < ngpus && g < 4; g++) {
        struct braid_topo_path p;
        braid__topo_gpu_path(topo, g, ngpus - 1, &p);
        braid__topo_gpu_nic(topo, g);
        braid__topo_p2p_direct(topo, g, 0);
    }
    braid__topo_free(topo);
    return 0;
}
