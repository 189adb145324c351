/// The `User-Agent` of every request to Port. Port derives an entity's `$datasource` from the
/// writer's User-Agent (port-api.md §6.4), and Ocean identifies itself as
/// `port-ocean/{type}/{version}/{identifier}/exporter`; with an integration id mirrorctl sends the
/// same shape under its own name, `mirrorctl/backstage/{version}/{identifier}/exporter`, so Port
/// can tell its writes apart per installation. Without one it is the default, `mirrorctl/{version}`.
public enum PortUserAgent {
    public static func value(integrationId: String?) -> String {
        guard let integrationId, !integrationId.isEmpty else { return TransportOptions().userAgent }
        return "mirrorctl/backstage/\(MirrorctlVersion.current)/\(integrationId)/exporter"
    }
}
