/**
 * This release, as package.json names it (a unit test holds the two together). Sent to
 * brokers as ApiVersions' client_software_version (KIP-511), where it shows in their
 * metrics and logs beside the client's name.
 */
export const VERSION = '0.1.0';
