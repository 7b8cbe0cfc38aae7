import type uPlot from "uplot";

/**
 * What every chart does around its uPlot: stays as wide as its box when the window changes,
 * hears a double-click before uPlot's own handler (capture, on an ancestor) so zooming out
 * goes back to the chart's window, and destroys the plot when the chart goes. Returns the cleanup.
 */
export function framePlot(
  el: HTMLElement,
  plot: { current: uPlot | null },
  height: number,
  unzoom: () => void,
): () => void {
  const resize = () => plot.current?.setSize({ width: el.clientWidth, height });
  el.addEventListener("dblclick", unzoom, true);
  window.addEventListener("resize", resize);
  return () => {
    el.removeEventListener("dblclick", unzoom, true);
    window.removeEventListener("resize", resize);
    plot.current?.destroy();
    plot.current = null;
  };
}
