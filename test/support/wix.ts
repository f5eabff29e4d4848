/**
 * Windows Installer packages made by wixl (Debian's wixl, from msitools)
 * from a WiX source written here: a product, and a tree of folders under
 * Program Files whose files are each folder's one component.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A folder the package installs: its name, its files (paths relative to where wixl runs), its folders. */
export interface InstallerFolder {
  name: string;
  files?: string[];
  folders?: InstallerFolder[];
}

/** The product an installer names, and what it installs under Program Files. */
export interface InstallerProduct {
  name: string;
  version: string;
  manufacturer: string;
  /** The summary information's Subject. */
  description?: string;
  /** x86 installs under ProgramFilesFolder, x64 under ProgramFiles64Folder. */
  arch: "x86" | "x64";
  /** Property rows besides those WiX writes: `{ ARPURLINFOABOUT: "https://..." }`. */
  properties?: Record<string, string>;
  folder: InstallerFolder;
}

const xmlText = (text: string) => text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** The WiX source of `product`: the database in UTF-8, one component per folder with files. */
export function wixSource(product: InstallerProduct): string {
  let ids = 0;
  const components: string[] = [];
  const win64 = product.arch === "x64" ? ' Win64="yes"' : "";
  const folder = ({ name, files = [], folders = [] }: InstallerFolder): string => {
    const id = ++ids;
    let component = "";
    if (files.length > 0) {
      components.push(`<ComponentRef Id="C${id}" />`);
      const entries = files.map((file) => `<File Id="F${++ids}" Source="${xmlText(file)}" />`);
      component = `<Component Id="C${id}" Guid="*"${win64}>${entries.join("")}</Component>`;
    }
    return `<Directory Id="D${id}" Name="${xmlText(name)}">${component}${folders.map(folder).join("")}</Directory>`;
  };
  const tree = folder(product.folder);
  const properties = Object.entries(product.properties ?? {}).map(
    ([id, value]) => `<Property Id="${id}" Value="${xmlText(value)}" />`,
  );
  const description =
    product.description === undefined ? "" : ` Description="${xmlText(product.description)}"`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="*" Name="${xmlText(product.name)}" Language="1033" Codepage="65001" Version="${product.version}"
           Manufacturer="${xmlText(product.manufacturer)}" UpgradeCode="12345678-1234-1234-1234-123456789012">
    <Package InstallerVersion="500" Compressed="yes"${description} />
    ${properties.join("\n    ")}
    <Media Id="1" Cabinet="product.cab" EmbedCab="yes" />
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="${product.arch === "x64" ? "ProgramFiles64Folder" : "ProgramFilesFolder"}">${tree}</Directory>
    </Directory>
    <Feature Id="Complete" Level="1">${components.join("")}</Feature>
  </Product>
</Wix>
`;
}

/**
 * The installer of `product`, built by wixl in `work` (as `name`), its
 * files' paths relative to `sources`.
 *
 * @example
 * buildInstaller(work, "tool.msi", tree, { name: "Tool", version: "1.0.0", manufacturer: "Example", arch: "x64", folder: { name: "Tool", files: ["tool.exe"] } });
 */
export function buildInstaller(
  work: string,
  name: string,
  sources: string,
  product: InstallerProduct,
): Buffer {
  const wxs = join(work, `${name}.wxs`);
  writeFileSync(wxs, wixSource(product));
  const out = join(work, name);
  // wixl finds sources relative to the folder it runs in, and refuses absolute ones.
  execFileSync("wixl", ["-a", product.arch, "-o", out, wxs], { cwd: sources, stdio: "pipe" });
  return readFileSync(out);
}
