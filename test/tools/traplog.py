#!/usr/bin/env python3
"""The linkUp/linkDown notifications an snmptrapd wrote, one line each.

    traplog.py FILE

FILE is snmptrapd's log with -On and -F 'TRAP %s %P|%v\\n' (varbinds separated
by tabs). For each linkDown or linkUp, in order, prints

    KIND IFINDEX ADMIN OPER SECURITY

(KIND linkDown|linkUp, SECURITY "v2c:COMMUNITY" or "v3:USER"), or

    bad KIND: WHY

when its varbinds are not RFC 2863's: sysUpTime.0, snmpTrapOID.0, then
ifIndex.N = N, ifAdminStatus.N, ifOperStatus.N (INTEGERs, one N), and
after them nothing but snmpTrapEnterprise.0 (which net-snmp adds to every
notification under snmpTraps). Other notifications (snmpd's coldStart,
nsNotifyShutdown) are left out.
"""
import re
import sys

SYS_UPTIME = ".1.3.6.1.2.1.1.3.0"
TRAP_OID = ".1.3.6.1.6.3.1.1.4.1.0"
TRAP_ENTERPRISE = ".1.3.6.1.6.3.1.1.4.3.0"
KINDS = {".1.3.6.1.6.3.1.1.5.3": "linkDown", ".1.3.6.1.6.3.1.1.5.4": "linkUp"}
IF_ENTRY = ".1.3.6.1.2.1.2.2.1."
COLUMNS = (1, 7, 8)  # ifIndex, ifAdminStatus, ifOperStatus


def varbinds(text):
    out = []
    for vb in text.split("\t"):
        name, sep, value = vb.partition(" = ")
        if sep:
            out.append((name.strip(), value.strip()))
    return out


def integer(value):
    m = re.fullmatch(r"INTEGER: (-?\d+)", value)
    return int(m.group(1)) if m else None


def security(head):
    m = re.search(r"SNMP v3, user (\S+?),", head)
    if m:
        return "v3:" + m.group(1)
    m = re.search(r"SNMP v2c, community (\S+)", head)
    if m:
        return "v2c:" + m.group(1)
    return "other"


def check(vbs):
    """Returns (KIND, [N, ADMIN, OPER]) or (KIND, WHY) for a link notification,
    None for any other."""
    if len(vbs) < 2 or vbs[1][0] != TRAP_OID:
        return None
    kind = KINDS.get(vbs[1][1].removeprefix("OID: "))
    if not kind:
        return None
    if vbs[0][0] != SYS_UPTIME:
        return kind, "first varbind %s, not sysUpTime.0" % vbs[0][0]
    if len(vbs) < 5:
        return kind, "%d varbinds, want at least 5" % len(vbs)
    values = []
    index = None
    for (name, value), col in zip(vbs[2:5], COLUMNS):
        prefix = IF_ENTRY + "%d." % col
        if not name.startswith(prefix):
            return kind, "%s where ifEntry column %d was due" % (name, col)
        n = name[len(prefix):]
        if index is None:
            index = n
        elif n != index:
            return kind, "instance %s of column %d, ifIndex.%s before" % (n, col, index)
        v = integer(value)
        if v is None:
            return kind, "%s = %s is not an INTEGER" % (name, value)
        values.append(v)
    if str(values[0]) != index:
        return kind, "ifIndex.%s = %d" % (index, values[0])
    for name, _ in vbs[5:]:
        if name != TRAP_ENTERPRISE:
            return kind, "unexpected varbind %s after ifOperStatus" % name
    return kind, values


def main():
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("TRAP "):
                continue
            head, sep, rest = line.partition("|")
            if not sep:
                continue
            got = check(varbinds(rest))
            if got is None:
                continue
            kind, res = got
            if isinstance(res, str):
                print("bad %s: %s" % (kind, res))
            else:
                print("%s %d %d %d %s" % (kind, res[0], res[1], res[2], security(head)))


if __name__ == "__main__":
    main()
