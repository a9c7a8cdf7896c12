/**
 * Media types of executables, scripts and installers. A file with one of these types, declared
 * or detected, is rejected even when an operator lists the type as allowed. The detected types
 * are the names that file-type 21 reports.
 */
const EXECUTABLE_TYPES: ReadonlySet<string> = new Set([
  // Native code: ELF, PE (MZ) and Mach-O, as file-type reports them and as clients declare them.
  'application/x-elf',
  'application/x-executable',
  'application/x-sharedlib',
  'application/x-pie-executable',
  'application/x-mach-binary',
  'application/x-msdownload',
  'application/x-dosexec',
  'application/x-msdos-program',
  'application/vnd.microsoft.portable-executable',
  'application/x-ms-installer',
  'application/x-msi',
  'application/x-ms-shortcut',
  'application/x.ms.shortcut',
  'application/x-ms-regedit',
  'application/vnd.ms-htmlhelp',
  'application/hta',
  // Bytecode, packages and extensions that install or run code.
  'application/java-archive',
  'application/x-java-archive',
  'application/java-vm',
  'application/wasm',
  'application/vnd.android.package-archive',
  'application/x-deb',
  'application/x-rpm',
  'application/x-xpinstall',
  'application/x-google-chrome-extension',
  'application/x-shockwave-flash',
  // Scripts.
  'application/x-sh',
  'application/x-shellscript',
  'application/x-csh',
  'text/x-sh',
  'text/x-shellscript',
  'application/x-bat',
  'application/bat',
  'text/x-msdos-batch',
  'application/x-powershell',
  'text/vbscript',
  'application/x-vbscript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/javascript',
  'text/ecmascript',
  'text/jscript',
  'application/x-php',
  'application/x-httpd-php',
  'text/x-php',
  'application/x-python',
  'application/x-python-code',
  'text/x-python',
  'text/x-script.python',
  'application/x-perl',
  'text/x-perl',
  'application/x-ruby',
  'text/x-ruby',
]);

/**
 * Extensions that web servers map to a script handler wherever they appear in a name: Apache's
 * mod_mime reads every extension, so `shell.php.jpg` can run as PHP. Country-code domains such
 * as `.pl` and `.py` are left out because names like `shop.pl.pdf` are common.
 */
const HANDLER_EXTENSIONS: ReadonlySet<string> = new Set([
  ...['php', 'php3', 'php4', 'php5', 'php7', 'php8', 'phtml', 'pht', 'phar', 'shtml'],
  ...['asp', 'aspx', 'jsp', 'jspx'],
]);

/** File name extensions of executables, scripts and installers, rejected as the last extension. */
const EXECUTABLE_EXTENSIONS: ReadonlySet<string> = new Set([
  ...['exe', 'dll', 'so', 'dylib', 'sys', 'drv', 'elf', 'com', 'scr', 'pif', 'cpl', 'lnk'],
  ...['msi', 'msp', 'msix', 'appx', 'apk', 'dex', 'jar', 'war', 'ear', 'class', 'wasm'],
  ...['deb', 'rpm', 'run', 'crx', 'xpi', 'reg', 'chm', 'hta', 'swf', 'gadget'],
  ...['sh', 'bash', 'zsh', 'ksh', 'csh', 'fish', 'command', 'bat', 'cmd'],
  ...['ps1', 'psm1', 'psd1', 'vbs', 'vbe', 'wsf', 'wsh', 'js', 'jse', 'mjs', 'cjs'],
  ...['py', 'pyc', 'pyo', 'pyw', 'pyz', 'pl', 'pm', 'rb', 'cgi'],
  ...HANDLER_EXTENSIONS,
]);

/** True when a declared or detected media type is an executable, script or installer. */
export function isExecutableType(type: string): boolean {
  return EXECUTABLE_TYPES.has(type);
}

/**
 * True when the last extension of `fileName` is an executable's or script's, or an earlier one
 * is a server handler's. Trailing dots and spaces are ignored, because Windows drops them.
 */
export function hasExecutableExtension(fileName: string): boolean {
  const extensions = fileName
    .toLowerCase()
    .replace(/[. ]+$/, '')
    .split('.')
    .slice(1);
  const last = extensions.pop();
  if (last !== undefined && EXECUTABLE_EXTENSIONS.has(last)) return true;
  return extensions.some((extension) => HANDLER_EXTENSIONS.has(extension));
}

/** True when the content starts with `#!`, the interpreter line of a Unix script. */
export function startsWithShebang(content: Uint8Array): boolean {
  return content[0] === 0x23 && content[1] === 0x21;
}
