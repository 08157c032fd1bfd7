/** IPv4 CIDR maths for the VPC layout — pure functions. */

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}
function toIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * Split `cidr` into `count` equal subnets of `newBits` more prefix bits, from the start of the range
 * (like Terraform's cidrsubnet(cidr, newBits, i) for i in 0..count-1).
 */
export function subnetCidrs(cidr: string, newBits: number, count: number): string[] {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(cidr)}`);
  const prefix = Number(m[2]);
  const bits = prefix + newBits;
  if (bits > 28) throw new Error(`cannot split ${cidr} by ${newBits} bits: /${bits} is smaller than /28 (AWS minimum)`);
  if (count > 2 ** newBits) throw new Error(`cannot fit ${count} subnets of /${bits} in ${cidr}`);
  const size = 2 ** (32 - bits);
  const base = toInt(m[1]) - (toInt(m[1]) % 2 ** (32 - prefix));
  return Array.from({ length: count }, (_, i) => `${toIp(base + i * size)}/${bits}`);
}
