/** seek-bzip ships no types; bzip2.ts states the parts of its block reader that it drives. */
declare module "seek-bzip" {
  const Bunzip: unknown;
  export default Bunzip;
}
