"""Side by side: `gouvgen emulate` and Stoplight Prism (`prism mock`) on the same documents.

For each document: whether each tool starts, how long until it answers its first request,
whether it answers every operation (any HTTP answer other than 404/405/5xx, placeholders filled
with `1`, the demo credentials for the emulator), and the median latency of 50 sequential
calls to the first GET operation. Loopback only. Prints a Markdown table.

Usage: python3 prism_side_by_side.py GOUVGEN_BIN PRISM_BIN DOC...   (tools from .ci/install-tools)
"""
import json, os, re, socket, statistics, subprocess, sys, time
import requests, yaml

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def load(doc):
    with open(doc, encoding="utf-8-sig") as f:
        return yaml.safe_load(f)

def base_path(spec):
    if "swagger" in spec:
        return (spec.get("basePath") or "").rstrip("/")
    url = ((spec.get("servers") or [{}])[0].get("url") or "")
    for name, var in ((spec.get("servers") or [{}])[0].get("variables") or {}).items():
        url = url.replace("{%s}" % name, str(var.get("default", "")))
    m = re.match(r"^[a-z]+://[^/]*(/.*)?$", url)
    path = (m.group(1) if m else url) or ""
    return path.rstrip("/")

def operations(spec):
    for path, item in (spec.get("paths") or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            if isinstance(item, dict) and method in item:
                yield method.upper(), re.sub(r"\{[^}]*\}", "1", path)

def gateway(doc):
    folder = os.path.basename(os.path.dirname(doc))
    return folder if folder in ("piste", "douane", "api-entreprise", "api-particulier") else "dgfip"

def wait_http(url, proc, timeout=60):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            return None
        try:
            requests.get(url, timeout=1)
            return time.monotonic() - start
        except requests.RequestException:
            time.sleep(0.02)
    return None

def emulator_headers(gw, root, banner):
    h = {"X-Correlation-ID": "6f1c2d3e-4b5a-4c6d-8e7f-000000000001", "X-FranceConnect-OAuth": "u"}
    if gw in ("api-entreprise", "api-particulier"):
        h["Authorization"] = "Bearer " + re.search(r'\.jwt\("([^"]+)"\)', banner).group(1)
        return h
    if gw == "dgfip":
        r = requests.post(root + "/token", auth=("consumer-key", "consumer-secret"), data={"grant_type": "client_credentials"})
    elif gw == "piste":
        r = requests.post(root + "/api/oauth/token", data={"grant_type": "client_credentials", "client_id": "consumer-key", "client_secret": "consumer-secret"})
    else:
        r = requests.post(root + "/oauth2/token", data={"grant_type": "password", "client_id": "gun-api", "username": "compte-api", "password": "mot-de-passe"})
    h["Authorization"] = "Bearer " + r.json()["access_token"]
    return h

def measure(kind, doc, gouvgen, prism):
    spec = load(doc)
    ops = list(operations(spec))
    port = free_port()
    root = "http://127.0.0.1:%d" % port
    if kind == "emulator":
        cmd = [gouvgen, "emulate", "--gateway", gateway(doc), "--port", str(port), doc]
        prefix = root + base_path(spec)
    else:
        cmd = [prism, "mock", "-h", "127.0.0.1", "-p", str(port), doc]
        prefix = root
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        up = wait_http(root + "/", proc)
        if up is None:
            return {"starts": False}
        banner = ""
        headers = {}
        if kind == "emulator":
            while "calls (one line each)" not in banner:
                banner += proc.stdout.readline()
            headers = emulator_headers(gateway(doc), root, banner)
        answered = 0
        for method, path in ops:
            try:
                r = requests.request(method, prefix + path, headers=headers, json={} if method in ("POST", "PUT", "PATCH") else None, timeout=5)
                if r.status_code not in (404, 405) and r.status_code < 500:
                    answered += 1
            except requests.RequestException:
                pass
        gets = [p for m, p in ops if m == "GET"] or [ops[0][1]]
        times = []
        session = requests.Session()
        for _ in range(50):
            t = time.monotonic()
            session.get(prefix + gets[0], headers=headers, timeout=5)
            times.append(time.monotonic() - t)
        return {"starts": True, "startup": up, "answered": answered, "ops": len(ops), "median_ms": statistics.median(times) * 1000}
    finally:
        proc.kill(); proc.wait()

def main():
    gouvgen, prism, docs = sys.argv[1], sys.argv[2], sys.argv[3:]
    print("| document | ops | emulator: starts / start-up s / answered / median ms | Prism: starts / start-up s / answered / median ms |")
    print("|---|---:|---|---|")
    for doc in docs:
        row = [os.path.relpath(doc)]
        results = [measure(k, doc, gouvgen, prism) for k in ("emulator", "prism")]
        ops = next((r["ops"] for r in results if r.get("starts")), len(list(operations(load(doc)))))
        row.append(str(ops))
        for r in results:
            if not r.get("starts"):
                row.append("does not start")
            else:
                row.append("yes / %.2f / %d of %d / %.1f" % (r["startup"], r["answered"], r["ops"], r["median_ms"]))
        print("| " + " | ".join(row) + " |", flush=True)

main()
