import { render } from "preact";
import { App } from "./app.js";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no element with id root to render the pages into");
render(<App />, root);
