/* fuzz_htsim_topo.c - libFuzzer target for htsim's .topo reader
 * (topo_htsim_read, topology.file = X.topo). A file that reads resolves to
 * a leaf_spine or fat_tree spec whose counts multiply back to its hosts and
 * that topo_check accepts or refuses with one line.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "topo/fabric_file.h"

FUZZ_ENTRY(htsim_topo)
{
    char path[64];
    int fd = fuzz_memfile(data, size, path, sizeof path);
    if (fd < 0) return 0;
    struct topo_spec s;
    memset(&s, 0, sizeof s);
    s.kind = TOPO_FILE;
    s.gpus_per_host = 1;
    struct err e = {""};
    if (topo_htsim_read(path, &s, &e) == 0) {
        if (s.info.shape != TOPO_LEAF_SPINE && s.info.shape != TOPO_FAT_TREE) __builtin_trap();
        if (s.leaves < 1 || s.hosts_per_leaf < 1 || s.spines < 1) __builtin_trap();
        if (s.info.shape == TOPO_FAT_TREE && s.leaves != s.pods * s.leaves_per_pod)
            __builtin_trap();
        const struct opt_def *bad;
        if (topo_check(&s, &bad, &e) < 0)
            fuzz_check_msg(e.msg);
        else if (topo_port_count(&s) < 2 * (uint64_t)(s.leaves * s.hosts_per_leaf))
            __builtin_trap();
    } else {
        fuzz_check_msg(e.msg);
    }
    close(fd);
    return 0;
}
