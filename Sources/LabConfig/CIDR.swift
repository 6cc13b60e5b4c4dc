import BinderConf

/// `server.allow` entries: the CIDR usbip-binder reads from binder.conf, so the lab config
/// refuses exactly what the binder would (host bits set) and reads `::ffff:a.b.c.d` blocks as
/// the binder does (as IPv4). See BinderConf's `CIDR`.
public typealias CIDR = BinderConf.CIDR
public typealias CIDRError = BinderConf.CIDRError
