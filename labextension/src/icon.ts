import { LabIcon } from '@jupyterlab/ui-components';

// A flask: the sidebar's and the tab's icon (drawn here; themed through jp-icon3).
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
<path class="jp-icon3" fill="#616161" d="M9 2h6v2h-1v5.2l5.6 9.3A2 2 0 0 1 17.9 21H6.1a2 2 0 0 1-1.7-2.5L10 9.2V4H9V2zm3 9.1L8.3 17h7.4L12 11.1z"/>
</svg>`;

export const flaskIcon = new LabIcon({ name: 'jupyter-exp:flask', svgstr });
