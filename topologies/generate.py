#!/usr/bin/env python3
"""Generates braid's reference topology files (NCCL topology XML plus braid's extensions).

Run from anywhere: python3 topologies/generate.py [outdir]. Uses only the standard library.
Each file opens with a comment citing the public specifications it was built from. Bus ids,
GUIDs and CPU models are illustrative where the specifications do not give them; link counts,
generations, speeds and widths follow the specifications.

braid's extensions (ignored by NCCL's reader): <host id name rack>, <network name tiers rails>,
<nvswitch busid domain chips trays gen>, and the attributes host (on <cpu>), clique and mem (on
<gpu>), gen (on <nvlink>), link_layer and rail (on <net>).
"""
import os
import sys

NVIDIA = 0x10DE
MELLANOX = 0x15B3
BROADCOM = 0x1000

SPECS = {
    "dgx2": [
        "NVIDIA DGX-2 datasheet and user guide: 16 Tesla V100 SXM3, 12 NVSwitch,",
        "6 NVLink 2 links per GPU (300 GB/s bidirectional), 2 Xeon Platinum 8168,",
        "8 x 100 Gb/s EDR InfiniBand, PCIe Gen3 switch trees.",
        "https://docs.nvidia.com/dgx/dgx2-user-guide/",
    ],
    "dgx-h100": [
        "NVIDIA DGX H100 user guide: 8 H100 SXM5, 4 NVSwitch (third generation,",
        "NVLink 4), 18 NVLink links per GPU (900 GB/s bidirectional), 2 Xeon Platinum",
        "8480C, 8 x ConnectX-7 400 Gb/s (OSFP) for compute, PCIe Gen5.",
        "https://docs.nvidia.com/dgx/dgxh100-user-guide/introduction-to-dgxh100.html",
    ],
    "hgx-b200": [
        "NVIDIA HGX B200 / DGX B200: 8 B200 GPUs, 2 NVLink 5 switch chips, 18 NVLink 5",
        "links per GPU (1.8 TB/s bidirectional), 8 x ConnectX-7 400 Gb/s, 2 Xeon",
        "Platinum 8570, PCIe Gen5.",
        "https://www.nvidia.com/en-us/data-center/hgx/",
        "https://docs.nvidia.com/dgx/dgxb200-user-guide/",
    ],
    "hgx-b300-nvl16": [
        "NVIDIA HGX B300 NVL16: 8 Blackwell Ultra packages of 2 dies each (the 16 of",
        "NVL16); CUDA shows one device per package, so this file has 8 GPUs. 18 NVLink 5",
        "links per package (1.8 TB/s bidirectional), 8 x ConnectX-8 SuperNIC 800 Gb/s",
        "on PCIe Gen6 x16.",
        "https://www.nvidia.com/en-us/data-center/hgx/",
        "https://www.nvidia.com/en-us/networking/products/data-processing-unit/connectx-8-supernic/",
    ],
    "gb200-nvl72": [
        "NVIDIA GB200 NVL72: 72 Blackwell GPUs and 36 Grace CPUs in 18 compute trays",
        "(2 GB200 superchips = 2 Grace + 4 GPU per tray), NVLink-C2C between each Grace",
        "and its 2 GPUs (900 GB/s bidirectional per Grace), 9 NVLink switch trays of 2",
        "NVLink 5 switch chips, 18 NVLink 5 links per GPU (1.8 TB/s bidirectional),",
        "4 ConnectX-7 400 Gb/s per tray (one per GPU).",
        "https://www.nvidia.com/en-us/data-center/gb200-nvl72/",
    ],
    "gb300-nvl72": [
        "NVIDIA GB300 NVL72: 72 Blackwell Ultra GPUs and 36 Grace CPUs in 18 compute",
        "trays, NVLink-C2C to Grace, 9 NVLink switch trays, 18 NVLink 5 links per GPU",
        "(1.8 TB/s bidirectional), 4 ConnectX-8 SuperNIC 800 Gb/s per tray on PCIe Gen6.",
        "https://www.nvidia.com/en-us/data-center/gb300-nvl72/",
    ],
    "superpod": [
        "Rail-optimised fabric as in the NVIDIA DGX SuperPOD reference architecture:",
        "NIC k of every node connects to leaf switch group (rail) k; leaf and spine tiers.",
        "https://docs.nvidia.com/dgx-superpod/reference-architecture-scalable-infrastructure-h100/latest/",
    ],
}


class Out:
    def __init__(self):
        self.lines = []
        self.depth = 0

    def open(self, tag, attrs, close=False):
        text = " ".join('%s="%s"' % (k, v) for k, v in attrs if v is not None)
        end = "/>" if close else ">"
        self.lines.append("  " * self.depth + "<%s%s%s" % (tag, " " + text if text else "", end))
        if not close:
            self.depth += 1

    def close(self, tag):
        self.depth -= 1
        self.lines.append("  " * self.depth + "</%s>" % tag)


def hx(v, digits):
    return "0x%0*x" % (digits, v)


def pci_attrs(busid, cls, vendor, device, speed, width):
    return [("busid", busid), ("class", hx(cls, 6)), ("vendor", hx(vendor, 4)),
            ("device", hx(device, 4)), ("link_speed", "%.1f GT/s PCIe" % speed),
            ("link_width", width)]


def gpu(o, busid, dev, sm, device, speed, nvlinks, mem, clique=None, c2c=None):
    o.open("pci", pci_attrs(busid, 0x030200, NVIDIA, device, speed, 16))
    o.open("gpu", [("dev", dev), ("sm", sm), ("gdr", 1), ("mem", mem), ("clique", clique)])
    for target, count, gen in nvlinks:
        o.open("nvlink", [("target", target), ("tclass", "0x068000"), ("count", count),
                          ("gen", gen)], close=True)
    if c2c:
        o.open("c2c", [("count", c2c[0]), ("bw", c2c[1])], close=True)
    o.close("gpu")
    o.close("pci")


def nic(o, busid, name, dev, speed_mbps, guid, rail, pcie_speed, device, layer="IB"):
    o.open("pci", pci_attrs(busid, 0x020700, MELLANOX, device, pcie_speed, 16))
    o.open("nic", [])
    o.open("net", [("name", name), ("dev", dev), ("speed", speed_mbps), ("port", 1),
                   ("guid", "0x%x" % guid), ("maxconn", 131072), ("gdr", 1),
                   ("link_layer", layer), ("rail", rail)], close=True)
    o.close("nic")
    o.close("pci")


def switch_open(o, busid, speed):
    o.open("pci", pci_attrs(busid, 0x060400, BROADCOM, 0xc030, speed, 16))


def mask(cpus, total):
    bits = 0
    for c in cpus:
        bits |= 1 << c
    words = []
    for w in range((total + 31) // 32 - 1, -1, -1):
        words.append("%08x" % ((bits >> (32 * w)) & 0xFFFFFFFF))
    return ",".join(words)


def x86_cpu(o, host, numa, cores, model, multi):
    total = cores * 4
    cpus = list(range(numa * cores, (numa + 1) * cores))
    cpus += [c + 2 * cores for c in cpus]
    o.open("cpu", [("host", host if multi else None), ("numaid", numa),
                   ("affinity", mask(cpus, total)), ("arch", "x86_64"),
                   ("vendor", "GenuineIntel"), ("familyid", 6), ("modelid", model)])


def grace_cpu(o, host, numa):
    cpus = list(range(numa * 72, (numa + 1) * 72))
    o.open("cpu", [("host", host), ("numaid", numa), ("affinity", mask(cpus, 144)),
                   ("arch", "aarch64"), ("vendor", "NVIDIA")])


def header(o, keys, title):
    o.lines.append("<!-- braid reference topology: %s" % title)
    o.lines.append("     Generated by topologies/generate.py; do not edit by hand.")
    for key in keys:
        for line in SPECS[key]:
            o.lines.append("     " + line)
    o.lines.append("-->")
    o.open("system", [("version", 1)])


# ---- HGX-style 8-GPU (and DGX-2 16-GPU) hosts ------------------------------------------

def hgx_host(o, host, multi, cfg, nic_base):
    """One HGX host: per CPU, `groups` PCIe switches each holding GPUs and NICs."""
    g = 0
    n = 0
    for numa in range(2):
        x86_cpu(o, host, numa, cfg["cores"], cfg["model"], multi)
        for sw in range(cfg["switches"]):
            top = "0000:%02x:00.0" % (0x10 + numa * 0x80 + sw * 0x20)
            switch_open(o, top, cfg["pcie"])
            for leaf in range(cfg["leaves"]):
                if cfg["leaves"] > 1:
                    switch_open(o, "0000:%02x:00.0" % (0x11 + numa * 0x80 + sw * 0x20 + leaf * 8),
                                cfg["pcie"])
                for _ in range(cfg["gpus_per_leaf"]):
                    bus = 0x14 + numa * 0x80 + sw * 0x20 + leaf * 8 + (g % cfg["gpus_per_leaf"])
                    links = [("0001:%02x:00.0" % (0x70 + c), cnt, cfg["nvgen"])
                             for c, cnt in enumerate(cfg["nvl"])]
                    gpu(o, "0000:%02x:00.0" % bus, g, cfg["sm"], cfg["gpu_device"], cfg["pcie"],
                        links, cfg["mem"])
                    g += 1
                for _ in range(cfg["nics_per_leaf"]):
                    bus = 0x17 + numa * 0x80 + sw * 0x20 + leaf * 8
                    nic(o, "0000:%02x:00.0" % bus, "mlx5_%d" % n, n, cfg["nic_speed"],
                        0x0c42a10300000000 + (host << 16) + n, n, cfg["nic_pcie"], cfg["nic_device"])
                    n += 1
                if cfg["leaves"] > 1:
                    o.close("pci")
            o.close("pci")
        o.close("cpu")


DGX2 = dict(cores=24, model=85, switches=2, leaves=2, gpus_per_leaf=2, nics_per_leaf=1,
            sm=70, gpu_device=0x1db8, pcie=8.0, mem=32768, nvl=[1] * 6, nvgen=2,
            nic_speed=100000, nic_pcie=8.0, nic_device=0x1017, chips=12, trays=2)
DGXH100 = dict(cores=56, model=143, switches=4, leaves=1, gpus_per_leaf=1, nics_per_leaf=1,
               sm=90, gpu_device=0x2330, pcie=32.0, mem=81559, nvl=[5, 4, 4, 5], nvgen=4,
               nic_speed=400000, nic_pcie=32.0, nic_device=0x1021, chips=4, trays=1)
HGXB200 = dict(cores=64, model=207, switches=4, leaves=1, gpus_per_leaf=1, nics_per_leaf=1,
               sm=100, gpu_device=0x2901, pcie=32.0, mem=183359, nvl=[9, 9], nvgen=5,
               nic_speed=400000, nic_pcie=32.0, nic_device=0x1021, chips=2, trays=1)
HGXB300 = dict(cores=64, model=207, switches=4, leaves=1, gpus_per_leaf=1, nics_per_leaf=1,
               sm=103, gpu_device=0x3182, pcie=64.0, mem=275040, nvl=[9, 9], nvgen=5,
               nic_speed=800000, nic_pcie=64.0, nic_device=0x1023, chips=2, trays=1)


def hgx_system(cfg, keys, title, hosts=1, network=None):
    o = Out()
    header(o, keys, title)
    multi = hosts > 1
    for h in range(hosts):
        if multi:
            o.open("host", [("id", h), ("name", "node%02d" % h)], close=True)
    if network:
        o.open("network", network, close=True)
    for h in range(hosts):
        o.open("nvswitch", [("busid", "0001:70:00.0"), ("host", h), ("chips", cfg["chips"]),
                            ("trays", cfg["trays"]), ("gen", cfg["nvgen"])], close=True)
    for h in range(hosts):
        hgx_host(o, h, multi, cfg, 0)
    o.close("system")
    return o.lines


# ---- NVL72 racks --------------------------------------------------------------------------

def nvl72_tray(o, host, rack, cfg):
    for numa in range(2):
        grace_cpu(o, host, numa)
        for k in range(2):
            local = numa * 2 + k
            gpu(o, "%04x:%02x:00.0" % (numa * 8, 1 + k), local, cfg["sm"], cfg["gpu_device"], 32.0,
                [("0000:80:00.0", 18, 5)], cfg["mem"], clique="%s-rack%d" % (cfg["name"], rack),
                c2c=(10, 22.5))
        for k in range(2):
            local = numa * 2 + k
            nic(o, "%04x:%02x:00.0" % (numa * 8 + 2, 1 + k), "mlx5_%d" % local, local,
                cfg["nic_speed"], 0xb83fd20300000000 + (host << 8) + local, local,
                cfg["nic_pcie"], cfg["nic_device"])
        o.close("cpu")


GB200 = dict(name="gb200", sm=100, gpu_device=0x2941, mem=189471, nic_speed=400000,
             nic_pcie=32.0, nic_device=0x1021)
GB300 = dict(name="gb300", sm=103, gpu_device=0x31c2, mem=284208, nic_speed=800000,
             nic_pcie=64.0, nic_device=0x1023)


def nvl72_system(cfg, keys, title, racks=1, network=None):
    o = Out()
    header(o, keys, title)
    for r in range(racks):
        for t in range(18):
            o.open("host", [("id", r * 18 + t), ("name", "%s-r%02d-t%02d" % (cfg["name"], r, t)),
                            ("rack", r)], close=True)
    if network:
        o.open("network", network, close=True)
    for r in range(racks):
        o.open("nvswitch", [("busid", "0000:80:00.0"), ("domain", "%s-rack%d" % (cfg["name"], r)),
                            ("chips", 18), ("trays", 9), ("gen", 5)], close=True)
    for r in range(racks):
        for t in range(18):
            nvl72_tray(o, r * 18 + t, r, cfg)
    o.close("system")
    return o.lines


def systems():
    ib_ndr = [("name", "ib-ndr"), ("tiers", 2), ("rails", 8)]
    return {
        "dgx2.xml": hgx_system(DGX2, ["dgx2"], "NVIDIA DGX-2 (HGX-2), 16 V100 over NVSwitch"),
        "dgx-h100.xml": hgx_system(DGXH100, ["dgx-h100"], "NVIDIA DGX H100"),
        "hgx-b200.xml": hgx_system(HGXB200, ["hgx-b200"], "NVIDIA HGX B200"),
        "hgx-b300-nvl16.xml": hgx_system(HGXB300, ["hgx-b300-nvl16"], "NVIDIA HGX B300 NVL16"),
        "gb200-nvl72.xml": nvl72_system(GB200, ["gb200-nvl72"], "NVIDIA GB200 NVL72 rack"),
        "gb300-nvl72.xml": nvl72_system(GB300, ["gb300-nvl72"], "NVIDIA GB300 NVL72 rack"),
        "cluster-4x-dgx-h100-ndr.xml": hgx_system(
            DGXH100, ["dgx-h100", "superpod"],
            "4 x DGX H100 over NDR InfiniBand, rail-optimised", hosts=4, network=ib_ndr),
        "cluster-8x-gb200-nvl72.xml": nvl72_system(
            dict(GB200, nic_speed=800000, nic_pcie=64.0, nic_device=0x1023),
            ["gb200-nvl72", "gb300-nvl72", "superpod"],
            "8 x GB200 NVL72 (576 GPUs) over 800 Gb/s (ConnectX-8), rail-optimised", racks=8,
            network=[("name", "xdr-800g"), ("tiers", 2), ("rails", 4)]),
        "cluster-16x-gb300-nvl72.xml": nvl72_system(
            GB300, ["gb300-nvl72", "superpod"],
            "16 x GB300 NVL72 (1152 GPUs) over 800 Gb/s, rail-optimised", racks=16,
            network=[("name", "xdr-800g"), ("tiers", 3), ("rails", 4)]),
    }


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, lines in systems().items():
        with open(os.path.join(outdir, name), "w") as f:
            f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
