/** The release the simulator imitates (the REST reference it follows is v10.1.17, docs/spp-api.md). */
export const SPP_VERSION = '10.1.17';
export const SPP_BUILD = '10.1.17-15';
