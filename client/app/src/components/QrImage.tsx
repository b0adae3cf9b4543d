import { useEffect, useState } from 'preact/hooks';

/** A QR code as an <img> with a data: URL (no markup strings, no inline styles: CSP-safe). */
export function QrImage({ text, label }: { text: string; label: string }) {
  const [src, setSrc] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    // Loaded on first use: the first page load (on a slow link) does not need the encoder.
    import('qrcode').then(({ default: QRCode }) => QRCode.toDataURL(text, { margin: 1, width: 240, errorCorrectionLevel: 'M' })).then(
      (url) => live && setSrc(url),
      () => live && setSrc(undefined),
    );
    return () => {
      live = false;
    };
  }, [text]);
  return src ? <img class="qr" src={src} alt={label} width={240} height={240} /> : <div class="qr qr-pending" aria-busy="true" />;
}
